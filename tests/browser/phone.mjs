// phone.mjs - what the 360 px page tests (pin.mjs, register.mjs) share:
// required environment values, TAP output, the per-page check (screenshot,
// axe-core, fits the screen) and the mails the sink holds for an address.
import { readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const env = (k) => {
	const v = process.env[k];
	if (!v) throw new Error(`${k} is not set`);
	return v;
};

let n = 0;
let failed = 0;
export const ok = (cond, text, diag) => {
	n++;
	if (cond) {
		console.log(`ok ${n} - ${text}`);
	} else {
		failed++;
		console.log(`not ok ${n} - ${text}`);
		if (diag) console.log(String(diag).split('\n').slice(0, 30).map((l) => `# ${l}`).join('\n'));
	}
};

// Prints the plan and exits with the outcome.
export const done = () => {
	console.log(`1..${n}`);
	process.exit(failed ? 1 : 0);
};

// Screenshot OUT/PREFIX-NAME.png, then axe-core and the 360 px width.
export async function check(page, out, prefix, name) {
	mkdirSync(out, { recursive: true });
	await page.screenshot({ path: path.join(out, `${prefix}-${name}.png`), fullPage: true });
	await page.evaluate(`${axeSource}\n;0`);
	const res = await page.evaluate(async () =>
		// eslint-disable-next-line no-undef
		await axe.run(document, { resultTypes: ['violations'] }));
	const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	ok(bad.length === 0, `${name}: axe-core finds no serious or critical violation`,
		bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((x) => x.target.join(' ')).join(', ')}`).join('\n'));
	const w = await page.evaluate(() => document.documentElement.scrollWidth);
	ok(w <= 360, `${name}: fits a 360 px screen (scrollWidth ${w})`);
}

// The mails in the sink directory for addr, oldest first, as text.
export function mailsTo(sinkDir, addr) {
	const out = [];
	const walk = (d) => {
		for (const f of readdirSync(d)) {
			const p = path.join(d, f);
			if (statSync(p).isDirectory()) walk(p);
			else {
				const t = readFileSync(p, 'utf8');
				if (t.includes(`X-Rcpt-Args: <${addr}>`)) out.push({ t, m: statSync(p).mtimeMs });
			}
		}
	};
	walk(sinkDir);
	return out.sort((a, b) => a.m - b.m).map((x) => x.t);
}
