/**
 * What the benchmarks share: starting a server process and waiting until it serves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';

export { serverNodeFlags } from '../scripts/server-flags.js';

export const root = path.resolve(import.meta.dirname, '..');

/** Starts a server; ready when it prints its port, or when `healthUrl` answers. */
export function start(
	command: string[],
	env: Record<string, string>,
	healthUrl?: (port: number) => string
): Promise<{ child: ChildProcess; port: number }> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, command, {
			cwd: root,
			env: { PATH: process.env.PATH ?? '', ...env },
			stdio: ['ignore', 'pipe', 'inherit']
		});
		let out = '';
		// BENCH_SERVER_LOG=file keeps everything the servers print (for example V8's GC trace).
		const keep = process.env.BENCH_SERVER_LOG;
		child.stdout!.on('data', (d) => {
			if (keep) appendFileSync(keep, d);
			// Errors the server logs (pino levels 50 and 60) are shown, not only kept.
			for (const line of String(d).split('\n'))
				if (/"level":(50|60)/.test(line)) process.stderr.write(`server: ${line}\n`);
			out += d;
			const m = out.match(/listening on (?:http:\/\/[^:]+:)?(\d+)/);
			if (m) resolve({ child, port: Number(m[1]) });
		});
		if (healthUrl) {
			const port = Number(env.PORT);
			const poll = async () => {
				try {
					if ((await fetch(healthUrl(port))).ok) return resolve({ child, port });
				} catch {
					// not up yet
				}
				setTimeout(poll, 200);
			};
			void poll();
		}
		child.once('exit', (code) => reject(new Error(`exited ${code}: ${out.slice(-2000)}`)));
	});
}
