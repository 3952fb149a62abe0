// portal.mjs - a patient in a real browser (Debian's Chromium through
// playwright-core; no browser is ever downloaded).  Driven by
// tests/integration/portal_browser.sh, which seals the messages and passes
// their links.  Prints TAP.
//
// Flow A, desktop, JavaScript off: open the link, answer wrongly, answer
// rightly, read the text, open the HTML part, download the attachment and
// compare bytes.  Flow B, a 360 px phone, JavaScript on so axe-core can
// run: the same pages, each checked for serious or critical accessibility
// violations and for horizontal overflow.  Both: nothing hostile executes
// (no dialog, no changed title, no request to the tracker), and a
// screenshot of every page lands in OUT.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const env = (k) => {
	const v = process.env[k];
	if (!v) throw new Error(`${k} is not set`);
	return v;
};
const LINK_A = env('LINK_A');
const LINK_B = env('LINK_B');
const ANSWER = env('ANSWER');
const MARK = env('MARK');
const ATTACHMENT = env('ATTACHMENT');
const OUT = env('OUT');
const TRACKER_PORT = Number(env('TRACKER_PORT'));
mkdirSync(OUT, { recursive: true });

let n = 0;
let failed = 0;
const ok = (cond, text, diag) => {
	n++;
	if (cond) {
		console.log(`ok ${n} - ${text}`);
	} else {
		failed++;
		console.log(`not ok ${n} - ${text}`);
		if (diag) console.log(String(diag).split('\n').slice(0, 30).map((l) => `# ${l}`).join('\n'));
	}
};

// Everything hostile in the test message would show itself here; the
// tracker is a real listener, so a request that got out is counted there.
function watch(page, seen) {
	page.on('dialog', async (d) => { seen.push(`dialog: ${d.message()}`); await d.dismiss(); });
	page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
}
const trackerHits = [];
const tracker = http.createServer((req, res) => { trackerHits.push(req.url); res.end(); });
await new Promise((resolve) => tracker.listen(TRACKER_PORT, '127.0.0.1', resolve));

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function axe(page, name) {
	// Through the DevTools protocol, which the page's CSP (no script at
	// all) does not govern: the page itself stays exactly as served.
	await page.evaluate(`${axeSource}\n;0`);
	const res = await page.evaluate(async () =>
		// eslint-disable-next-line no-undef
		await axe.run(document, { resultTypes: ['violations'] }));
	const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	ok(bad.length === 0, `${name}: axe-core finds no serious or critical violation`,
		bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((x) => x.target.join(' ')).join(', ')}`).join('\n'));
}

async function fits(page, name) {
	const w = await page.evaluate(() => document.documentElement.scrollWidth);
	ok(w <= 360, `${name}: fits a 360 px screen (scrollWidth ${w})`);
}

async function flow(browser, link, opts) {
	const { label, js } = opts;
	const ctx = await browser.newContext({
		javaScriptEnabled: js,
		acceptDownloads: true,
		locale: 'en-GB',
		...(opts.mobile ? { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
			: { viewport: { width: 1280, height: 900 } }),
	});
	const page = await ctx.newPage();
	const seen = [];
	watch(page, seen);

	let resp = await page.goto(link);
	ok(resp.status() === 200 && await page.getByLabel('Year of birth?').isVisible(),
		`${label}: the link opens the form with its question as the field's label`);
	await shot(page, `${label}-1-pickup`);
	if (js) { await axe(page, `${label} pickup`); await fits(page, `${label} pickup`); }

	await page.getByLabel('Year of birth?').fill('1066');
	await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Open the message' }).click()]);
	const alert = page.getByRole('alert');
	ok(await alert.isVisible() && /not correct/.test(await alert.innerText()),
		`${label}: a wrong answer is announced as an alert`);
	ok(await page.getByLabel('Year of birth?').getAttribute('aria-invalid') === 'true',
		`${label}: the field is marked invalid`);
	await shot(page, `${label}-2-wrong`);
	if (js) { await axe(page, `${label} wrong answer`); await fits(page, `${label} wrong answer`); }

	await page.getByLabel('Year of birth?').fill(ANSWER);
	await Promise.all([page.waitForURL(/\/view/), page.getByRole('button', { name: 'Open the message' }).click()]);
	const body = await page.locator('pre.body').innerText();
	ok(body.includes(MARK) && body.includes('<script>alert("text")</script>'),
		`${label}: the right answer shows the text, markup as plain text`);
	ok((await page.locator('.subject').innerText()).includes('<script>'),
		`${label}: the subject shows its markup as text`);
	await shot(page, `${label}-3-view`);
	if (js) { await axe(page, `${label} view`); await fits(page, `${label} view`); }

	const frameEl = page.locator('iframe[sandbox]');
	ok(await frameEl.count() === 1 && await frameEl.getAttribute('sandbox') === '',
		`${label}: the HTML part is in an iframe with an empty sandbox`);
	const frame = await (await frameEl.elementHandle()).contentFrame();
	await frame.waitForLoadState('load');
	const h = await frame.locator('h1').innerText().catch((e) => `error: ${e.message}`);
	ok(h.includes(`Formatted ${MARK}`), `${label}: the HTML part renders inside it`, h);
	const ftitle = await frame.title();
	ok(ftitle !== 'pwned', `${label}: the HTML part's script did not run`, ftitle);

	const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('.attachments a').first().click()]);
	const saved = path.join(OUT, `${label}-download.bin`);
	await dl.saveAs(saved);
	ok(Buffer.compare(readFileSync(saved), readFileSync(ATTACHMENT)) === 0,
		`${label}: the downloaded attachment is byte for byte the one sent`);
	ok(!/[\/\\"]/.test(dl.suggestedFilename()), `${label}: the suggested file name is sanitised`, dl.suggestedFilename());

	// The HTML part opened on its own: still sandboxed, still inert.
	const direct = await ctx.newPage();
	const seen2 = [];
	watch(direct, seen2);
	resp = await direct.goto(new URL(await frameEl.getAttribute('src'), link).href);
	ok(/sandbox/.test(resp.headers()['content-security-policy'] || ''),
		`${label}: the HTML part's own URL is served with CSP sandbox`);
	await shot(direct, `${label}-4-htmlpart`);
	ok(await direct.title() !== 'pwned' && seen2.length === 0,
		`${label}: opened directly, nothing in it executes`, seen2.join('\n'));
	ok(seen.length === 0 && await page.title() !== 'pwned',
		`${label}: no dialog, no script error, no changed title`, seen.join('\n'));
	ok(trackerHits.length === 0, `${label}: the remote image in the HTML part was never fetched`,
		trackerHits.join('\n'));
	await ctx.close();
}

// The other pages a patient may meet: Spanish, and a broken link.
async function others(browser) {
	const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, locale: 'es-ES' });
	const page = await ctx.newPage();
	const seen = [];
	watch(page, seen);
	await page.goto(LINK_A.replace(/\/m\/(.)/, '/m/x$1'));
	ok(await page.getByRole('heading', { level: 1 }).innerText() === 'Este enlace no funciona',
		'a broken link gets a clear page, in Spanish for a Spanish browser');
	await shot(page, 'phone-5-unknown-es');
	await axe(page, 'unknown link page');
	await fits(page, 'unknown link page');
	await page.goto(LINK_A);
	ok(await page.locator('html').getAttribute('lang') === 'es' &&
		await page.getByLabel('Year of birth?').isVisible(), 'the form is in Spanish with the same question');
	await shot(page, 'phone-6-pickup-es');
	await axe(page, 'Spanish form');
	await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: 'English' }).click()]);
	ok(await page.locator('html').getAttribute('lang') === 'en' &&
		await page.getByRole('button', { name: 'Open the message' }).isVisible(),
		'the language switch on the page goes to English');
	ok(seen.length === 0, 'nothing executes on these pages', seen.join('\n'));
	await ctx.close();
}

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
	await flow(browser, LINK_A, { label: 'desktop-nojs', js: false, mobile: false });
	await flow(browser, LINK_B, { label: 'phone', js: true, mobile: true });
	await others(browser);
} catch (e) {
	ok(false, 'the browser flow ran to the end', e.stack);
} finally {
	await browser.close();
	tracker.close();
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
