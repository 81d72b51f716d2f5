// `npm start`: builds when the build is missing or older than the sources, then serves it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const entry = path.join(root, 'build', 'app.js');
const inputs = [
	'src',
	'static',
	'drizzle',
	'vite.config.ts',
	'vite.server.config.ts',
	'package-lock.json'
];

/** @param {string} p @returns {number} */
function newest(p) {
	if (!existsSync(p)) return 0;
	const s = statSync(p);
	if (!s.isDirectory()) return s.mtimeMs;
	let max = s.mtimeMs;
	for (const name of readdirSync(p)) max = Math.max(max, newest(path.join(p, name)));
	return max;
}

const builtAt = existsSync(entry) ? statSync(entry).mtimeMs : 0;
const changedAt = Math.max(...inputs.map((i) => newest(path.join(root, i))));
if (builtAt < changedAt) {
	console.log(
		builtAt ? 'Sources changed since the last build; rebuilding…' : 'First start: building the app…'
	);
	execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}
process.chdir(root);
await import(entry);
