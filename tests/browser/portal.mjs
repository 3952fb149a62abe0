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
//
// Admin (when ADMIN_LOGIN is set): a sender-admin on a desktop without
// JavaScript logs in with password and TOTP, finds message A by its
// recipient, sees its opens on the timeline and retracts it; the patient's
// link then says so.  A viewer on a 360 px phone sees the same timeline
// without actions, checked by axe-core.
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
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

// RFC 6238 with SHA-1, 30 s steps, 6 digits, from a base32 secret.
function totp(secret, ahead = 0) {
	const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = '';
	for (const c of secret.replace(/=+$/, '')) bits += alpha.indexOf(c).toString(2).padStart(5, '0');
	const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + ahead));
	const h = createHmac('sha1', key).update(msg).digest();
	const o = h[h.length - 1] & 15;
	return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

async function adminLogin(page, base, login, password, secret) {
	await page.goto(`${base}/admin/login`);
	await page.getByLabel('Login', { exact: true }).fill(login);
	await page.getByLabel('Password').fill(password);
	await page.getByLabel('Code from your authenticator app').fill(totp(secret));
	await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Log in' }).click()]);
}

async function admin(browser) {
	const base = new URL(LINK_A).origin;
	const rcpt = env('ADMIN_RECIPIENT');
	let ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
	let page = await ctx.newPage();
	const seen = [];
	watch(page, seen);
	await page.goto(`${base}/admin/login`);
	await shot(page, 'admin-desktop-1-login');
	await adminLogin(page, base, env('ADMIN_LOGIN'), env('ADMIN_PASSWORD'), env('ADMIN_SECRET'));
	ok(/\/admin\/messages$/.test(page.url()) && await page.getByRole('heading', { name: 'Messages' }).isVisible(),
		'admin: a sender-admin logs in with password and TOTP (no JavaScript)', page.url());
	await page.getByLabel('Recipient').fill(rcpt);
	await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Search' }).click()]);
	const rows = page.locator('table.messages tbody tr');
	ok(await rows.count() === 1, 'admin: the search by recipient finds message A', await rows.count());
	await shot(page, 'admin-desktop-2-messages');
	await Promise.all([page.waitForLoadState('load'), rows.first().locator('a').click()]);
	const timeline = await page.locator('table.timeline').innerText();
	ok(/Viewed/.test(timeline) && /Verified/.test(timeline) && /Verification failed/.test(timeline) && /Downloaded/.test(timeline),
		'admin: the timeline shows the failed and successful verification, the view and the download', timeline);
	await shot(page, 'admin-desktop-3-timeline');
	await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Retract this message' }).click()]);
	ok(await page.locator('#state').innerText() === 'retracted' && /Retracted/.test(await page.locator('table.timeline').innerText()),
		'admin: retracting shows the message retracted, with the event');
	await shot(page, 'admin-desktop-4-retracted');
	const patient = await ctx.newPage();
	const resp = await patient.goto(LINK_A);
	ok(resp.status() === 410, 'admin: the patient link of the retracted message is refused', resp.status());
	ok(seen.length === 0, 'admin: nothing executes on the admin pages', seen.join('\n'));
	await ctx.close();

	ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
	page = await ctx.newPage();
	await page.goto(`${base}/admin/login`);
	await axe(page, 'admin login');
	await fits(page, 'admin login');
	await adminLogin(page, base, env('VIEWER_LOGIN'), env('VIEWER_PASSWORD'), env('VIEWER_SECRET'));
	ok(/\/admin\/messages$/.test(page.url()), 'admin: a viewer logs in on a phone', page.url());
	await axe(page, 'admin messages');
	await fits(page, 'admin messages');
	await shot(page, 'admin-phone-1-messages');
	await page.goto(`${base}/admin/messages?recipient=${encodeURIComponent(rcpt)}`);
	await Promise.all([page.waitForLoadState('load'), page.locator('table.messages tbody a').first().click()]);
	ok(/Viewed/.test(await page.locator('table.timeline').innerText()) &&
		await page.getByRole('button', { name: 'Retract this message' }).count() === 0,
		'admin: the viewer sees the timeline and no action');
	await axe(page, 'admin timeline');
	await fits(page, 'admin timeline');
	await shot(page, 'admin-phone-2-timeline');
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
	if (process.env.ADMIN_LOGIN) await admin(browser);
} catch (e) {
	ok(false, 'the browser flow ran to the end', e.stack);
} finally {
	await browser.close();
	tracker.close();
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
