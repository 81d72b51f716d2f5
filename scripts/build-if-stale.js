// Runs `npm run build` when build/<entry> is missing or older than any source (used by `npm start`
// and the content CLI, so both rebuild the same way).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..');
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

/**
 * @param {string} entry a file in build/, e.g. 'app.js'
 * @param {{ stderr?: boolean }} [options] send the build's output to stderr (keeps stdout clean)
 * @returns {string} the entry's absolute path
 */
export function buildIfStale(entry, options = {}) {
	const out = options.stderr ? 2 : 'inherit';
	const file = path.join(root, 'build', entry);
	const builtAt = existsSync(file) ? statSync(file).mtimeMs : 0;
	const changedAt = Math.max(...inputs.map((i) => newest(path.join(root, i))));
	if (builtAt < changedAt) {
		const note = builtAt
			? 'Sources changed since the last build; rebuilding…'
			: 'First start: building the app…';
		if (options.stderr) process.stderr.write(`${note}\n`);
		else console.log(note);
		execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', out, 'inherit'] });
	}
	return file;
}
