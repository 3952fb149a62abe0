// register.mjs - the registration pages in a real browser (Debian's
// Chromium through playwright-core), on a 360 px phone with JavaScript on
// so axe-core can run.  Driven by tests/integration/register_browser.sh,
// which seals a message to a registered patient and passes its link.  Ask
// for a code, take it from the mail at the sink, try a common password,
// set a good one, read the message, come back and see the password form,
// ask for a reset link, follow it, set a new password.  Every page:
// axe-core, fits 360 px, a screenshot in OUT.  Prints TAP.
import { chromium } from 'playwright-core';
import { env, ok, done, check as checkPage, mailsTo as sinkMails } from './phone.mjs';

const LINK = env('REG_LINK');
const MARK = env('MARK');
const ADDRESS = env('ADDRESS');
const SINK_DIR = env('SINK_DIR');
const OUT = env('OUT');

const check = (page, name) => checkPage(page, OUT, 'register', name);

const mailsTo = (addr) => sinkMails(SINK_DIR, addr);

// Waits for a mail to addr after the first `before`; the newest, or null.
async function nextMail(addr, before) {
	for (let i = 0; i < 300; i++) {
		const mails = mailsTo(addr);
		if (mails.length > before) return mails[mails.length - 1];
		await new Promise((r) => setTimeout(r, 100));
	}
	return null;
}

const phone = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const PW = `violet harbour ${Date.now()} lantern`;
const PW2 = `quiet otter ${Date.now()} meadow`;
const save = 'Save the password and open the message';
try {
	let ctx = await browser.newContext({ ...phone, locale: 'en-GB' });
	let page = await ctx.newPage();
	await page.goto(LINK);
	ok(await page.getByRole('button', { name: 'Email me a code' }).isVisible() &&
		!(await page.getByLabel('New password').count()),
		'first visit: the page offers to mail a code, nothing else');
	await check(page, '1-start');
	let before = mailsTo(ADDRESS).length;
	await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Email me a code' }).click()]);
	ok(await page.getByLabel('Code from the email').isVisible() &&
		await page.getByLabel('New password').isVisible() &&
		await page.getByLabel('Repeat the password').isVisible(),
		'then it asks for the code and a new password, twice');
	await check(page, '2-code');
	const mail = await nextMail(ADDRESS, before);
	const code = mail ? (mail.match(/^ {4}(\d{8})$/m) || [])[1] : undefined;
	ok(code !== undefined && !mail.includes(MARK), 'the code mail arrives, without anything of the message');
	await page.getByLabel('Code from the email').fill(code || '');
	await page.getByLabel('New password').fill('password12345');
	await page.getByLabel('Repeat the password').fill('password12345');
	await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: save }).click()]);
	ok(await page.getByRole('alert').textContent().then((t) => t.includes('too common')),
		'a common password: the page says so');
	await check(page, '3-common');
	await page.getByLabel('Code from the email').fill(code || '');
	await page.getByLabel('New password').fill(PW);
	await page.getByLabel('Repeat the password').fill(PW);
	await Promise.all([page.waitForURL(/\/view/), page.getByRole('button', { name: save }).click()]);
	ok((await page.content()).includes(MARK), 'with the password set, the message shows');
	await check(page, '4-view');
	await ctx.close();

	ctx = await browser.newContext({ ...phone, locale: 'en-GB' });
	page = await ctx.newPage();
	await page.goto(LINK);
	ok(await page.getByLabel('Password', { exact: true }).isVisible() &&
		!(await page.getByLabel('Code from the email').count()),
		'a later visit asks for the password only');
	await check(page, '5-enter');
	await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: 'Forgot your password?' }).click()]);
	ok(await page.getByRole('button', { name: 'Send the link' }).isVisible(), 'the reset page offers to send a link');
	await check(page, '6-recover');
	before = mailsTo(ADDRESS).length;
	await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Send the link' }).click()]);
	ok((await page.content()).includes('Check your email'), 'after asking: check your email');
	await check(page, '7-sent');
	const rm = await nextMail(ADDRESS, before);
	const m = rm ? rm.match(/https?:\/\/\S+\/reset\?k=[A-Za-z0-9_-]{43}\S*/) : null;
	ok(m !== null, 'the reset mail with a link reaches the address');
	if (m) {
		await page.goto(m[0]);
		ok(await page.getByLabel('New password').isVisible() &&
			!(await page.getByLabel('Code from the email').count()),
			'the reset link asks for a new password');
		await check(page, '8-reset');
		await page.getByLabel('New password').fill(PW2);
		await page.getByLabel('Repeat the password').fill(PW2);
		await Promise.all([page.waitForURL(/\/view/), page.getByRole('button', { name: save }).click()]);
		ok((await page.content()).includes(MARK), 'with the new password, the message shows');
	}
	await ctx.close();
} catch (e) {
	ok(false, 'the browser flow ran to the end', e.stack);
} finally {
	await browser.close();
}
done();
