// `npm test`: the whole suite, in the order CI needs it. Stops at the first failing step.
import { execFileSync } from 'node:child_process';

/** @type {[string, string[]][]} */
const steps = [
	['npm', ['run', 'lint']],
	['npm', ['run', 'check:cycles']],
	['npm', ['run', 'check']],
	['npm', ['run', 'build']],
	['npx', ['vitest', 'run']],
	['npx', ['playwright', 'test']]
];
for (const [cmd, args] of steps) {
	const label = [cmd, ...args].join(' ');
	console.log(`\n▶ ${label}`);
	const started = Date.now();
	try {
		execFileSync(cmd, args, { stdio: 'inherit' });
	} catch {
		console.error(`\n✖ ${label} failed`);
		process.exit(1);
	}
	console.log(`✔ ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
