// pin.mjs - the PIN pages of SMS notices in a real browser (Debian's
// Chromium through playwright-core), on a 360 px phone with JavaScript on
// so axe-core can run.  Driven by tests/integration/sms_browser.sh, which
// seals a message with an SMS notice and passes its link.  Set a PIN
// (after a mismatch), read the message, come back and see the PIN form,
// ask for a recovery link, follow it from the mail at the sink, set a new
// PIN.  Every page: axe-core, fits 360 px, a screenshot in OUT.  Prints TAP.
import { chromium } from 'playwright-core';
import { env, ok, done, check as checkPage, mailsTo as sinkMails } from './phone.mjs';

const LINK = env('PIN_LINK');
const MARK = env('MARK');
const RECOVERY = env('RECOVERY');
const SINK_DIR = env('SINK_DIR');
const OUT = env('OUT');

const check = (page, name) => checkPage(page, OUT, 'pin', name);

const mailsTo = (addr) => sinkMails(SINK_DIR, addr);

const phone = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
	let ctx = await browser.newContext({ ...phone, locale: 'en-GB' });
	let page = await ctx.newPage();
	await page.goto(LINK);
	ok(await page.getByLabel('New PIN (4 to 8 digits)').isVisible() &&
		await page.getByLabel('Repeat the PIN').isVisible() &&
		await page.getByLabel('Recovery email address').isVisible(),
		'first visit: the page asks for a new PIN, twice, and a recovery email');
	await check(page, '1-set');
	await page.getByLabel('New PIN (4 to 8 digits)').fill('4821');
	await page.getByLabel('Repeat the PIN').fill('4822');
	await page.getByLabel('Recovery email address').fill(RECOVERY);
	await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Save the PIN and open the message' }).click()]);
	ok(await page.getByRole('alert').textContent().then((t) => t.includes('not the same')),
		'two different PINs: the page says so');
	await check(page, '2-mismatch');
	await page.getByLabel('New PIN (4 to 8 digits)').fill('4821');
	await page.getByLabel('Repeat the PIN').fill('4821');
	await page.getByLabel('Recovery email address').fill(RECOVERY);
	await Promise.all([page.waitForURL(/\/view/), page.getByRole('button', { name: 'Save the PIN and open the message' }).click()]);
	ok((await page.content()).includes(MARK), 'with the PIN set, the message shows');
	await check(page, '3-view');
	await ctx.close();

	ctx = await browser.newContext({ ...phone, locale: 'en-GB' });
	page = await ctx.newPage();
	await page.goto(LINK);
	ok(await page.getByLabel('PIN', { exact: true }).isVisible() &&
		!(await page.getByLabel('Repeat the PIN').count()),
		'a later visit asks for the PIN only');
	await check(page, '4-enter');
	await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: 'Forgot your PIN?' }).click()]);
	ok(await page.getByRole('button', { name: 'Send the link' }).isVisible(), 'the recovery page offers to send a link');
	await check(page, '5-recover');
	const before = mailsTo(RECOVERY).length;
	await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Send the link' }).click()]);
	ok((await page.content()).includes('Check your email'), 'after asking: check your email');
	await check(page, '6-sent');
	let mails = [];
	for (let i = 0; i < 300 && mails.length <= before; i++) {
		mails = mailsTo(RECOVERY);
		await new Promise((r) => setTimeout(r, 100));
	}
	const m = mails.length > before ? mails[mails.length - 1].match(/https?:\/\/\S+\/reset\?k=[A-Za-z0-9_-]{43}\S*/) : null;
	ok(m !== null, 'the recovery mail with a reset link reaches the recovery address');
	if (m) {
		await page.goto(m[0]);
		ok(await page.getByLabel('New PIN (4 to 8 digits)').isVisible() &&
			!(await page.getByLabel('Recovery email address').count()),
			'the reset link asks for a new PIN');
		await check(page, '7-reset');
		await page.getByLabel('New PIN (4 to 8 digits)').fill('73915');
		await page.getByLabel('Repeat the PIN').fill('73915');
		await Promise.all([page.waitForURL(/\/view/), page.getByRole('button', { name: 'Save the PIN and open the message' }).click()]);
		ok((await page.content()).includes(MARK), 'with the new PIN, the message shows');
	}
	await ctx.close();
} catch (e) {
	ok(false, 'the browser flow ran to the end', e.stack);
} finally {
	await browser.close();
}
done();
