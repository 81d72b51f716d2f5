/**
 * Requests per second of the built app (`build/app.js`) against a raw `node:http` server that
 * serves the same bytes, side by side in one run on this machine, for two requests of a signed-in
 * student: a lesson page rendered by SvelteKit (the first lesson of the starter course) and
 * `GET /api/me`.
 *
 *   npm run build && node bench/http.ts [seconds=5] [rounds=3] [concurrency=32]
 *
 * Each response (status, headers, body) is first fetched once from the app; the raw server (this
 * file again, started as its own process with `--raw-server`) then answers the same path with
 * exactly those bytes, with a content-length instead of the app's framing. Both servers run with
 * the Node flags of `npm start`. The load comes from this process: `concurrency` requests in flight
 * on as many keep-alive connections (`http.request` with a keep-alive agent), for `seconds` per
 * round. After one unmeasured warm-up round of each request on each server, the raw server and the
 * app take turns (raw, app, raw, app...) so a slow moment of the machine hits both sides alike;
 * the figures are medians over the rounds. The app runs with the mock LLM and its request limits
 * off, and is otherwise as deployed.
 *
 * The server, the database and this load generator share the machine's cores: the CPU each used
 * is shown beside the rates, with what every other process on the machine used meanwhile (when
 * that is not near zero, something else competed for the cores and the rates are not reliable).
 *
 * Uses PostgreSQL when BENCH_DATABASE_URL (or TEST_DATABASE_URL) is set, else embedded PGlite.
 * Exits non-zero on errors (a failed request, a server that does not start), not on a missed target.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { root, serverNodeFlags, start } from './lib.ts';

/** One response as the app sent it: replayed byte for byte by the raw server. */
interface Recorded {
	path: string;
	status: number;
	/** Raw header list (name, value, name, value...), without the connection's own headers. */
	headers: string[];
	body: string; // base64
}

/** Headers that belong to the connection or the framing, not to the response: Node sets its own. */
const FRAMING = new Set([
	'date',
	'connection',
	'keep-alive',
	'transfer-encoding',
	'content-length'
]);

// The raw baseline: `node bench/http.ts --raw-server responses.json`.
if (process.argv[2] === '--raw-server') {
	const recorded = JSON.parse(readFileSync(process.argv[3]!, 'utf8')) as Recorded[];
	const responses = new Map(
		recorded.map((r) => {
			const body = Buffer.from(r.body, 'base64');
			return [
				r.path,
				{ status: r.status, headers: [...r.headers, 'content-length', String(body.length)], body }
			];
		})
	);
	const server = http.createServer((req, res) => {
		const r = responses.get(req.url ?? '');
		if (!r) {
			res.statusCode = 404;
			res.end('Not found');
			return;
		}
		res.writeHead(r.status, r.headers);
		res.end(r.body);
	});
	server.keepAliveTimeout = 65_000; // as the app (src/serve.ts)
	server.listen(0, '127.0.0.1', () => {
		const address = server.address();
		process.stdout.write(`listening on ${typeof address === 'object' && address?.port}\n`);
	});
} else {
	await main().then(
		() => process.exit(0),
		(err: Error) => {
			console.error(err.stack ?? err);
			process.exit(1);
		}
	);
}

async function main() {
	const SECONDS = Number(process.argv[2] ?? 5);
	const ROUNDS = Number(process.argv[3] ?? 3);
	const CONCURRENCY = Number(process.argv[4] ?? 32);
	if (!(SECONDS > 0) || !(ROUNDS > 0) || !(CONCURRENCY > 0))
		throw new Error('usage: node bench/http.ts [seconds=5] [rounds=3] [concurrency=32]');
	if (!existsSync(path.join(root, 'build/app.js')))
		throw new Error('build/app.js is missing: run `npm run build` first');
	const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;

	const children: ChildProcess[] = [];
	const dataDir = mkdtempSync(path.join(tmpdir(), 'tutor-bench-http-'));
	const workDir = mkdtempSync(path.join(tmpdir(), 'tutor-bench-http-raw-'));
	try {
		const appPort = 4600 + Math.floor(Math.random() * 300);
		const app = await start(
			[...serverNodeFlags, 'build/app.js'],
			{
				PORT: String(appPort),
				DATA_DIR: dataDir,
				LLM_PROVIDER: 'mock',
				LOG_LEVEL: 'warn',
				// One address registers and sends every request: no request limits.
				RATE_LIMIT_ENABLED: 'false',
				// Registrations are counted per address in the database, across runs.
				REGISTER_RATE_LIMIT: '10000',
				// The load generator keeps one access cookie for the whole run (a browser would renew it
				// through /api/me): it must not lapse mid-run. Each request verifies it the same way.
				ACCESS_TOKEN_TTL_SECONDS: '86400',
				...(databaseUrl ? { DATABASE_URL: databaseUrl } : {})
			},
			(port) => `http://127.0.0.1:${port}/health`
		);
		children.push(app.child);
		const base = `http://127.0.0.1:${appPort}`;

		// A signed-in student.
		const registered = await fetch(`${base}/register`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: base,
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: new URLSearchParams({
				email: `bench-http-${Date.now()}@example.com`,
				displayName: 'Bench Student',
				password: 'bench password 1'
			})
		});
		if (registered.status !== 303) throw new Error(`registering: HTTP ${registered.status}`);
		const cookie = registered.headers
			.getSetCookie()
			.map((c) => c.split(';')[0])
			.join('; ');

		// The first lesson of the starter course: module and lesson slugs from the pack folders.
		const starter = path.join(root, 'content/starter');
		const firstIn = (dir: string) =>
			readdirSync(dir)
				.filter((name) => /^\d+-/.test(name))
				.sort()[0]!;
		const moduleDir = firstIn(starter);
		const lessonDir = firstIn(path.join(starter, moduleDir));
		const slug = (dir: string) => dir.replace(/^\d+-/, '');
		const lessonPath = `/learn/${slug(moduleDir)}/${slug(lessonDir)}`;

		const requests = [
			{
				label: 'lesson page (SSR)',
				path: lessonPath,
				headers: { cookie, accept: 'text/html' },
				target: 0.4
			},
			{
				label: 'GET /api/me',
				path: '/api/me',
				headers: { cookie, accept: 'application/json' },
				target: 0.5
			}
		];

		// Each response once from the app: what the raw server will send.
		const recorded: Recorded[] = [];
		for (const r of requests) {
			const res = await get(appPort, r.path, r.headers);
			if (res.status !== 200)
				throw new Error(`${r.path}: HTTP ${res.status} ${res.body.toString().slice(0, 300)}`);
			const headers: string[] = [];
			for (let i = 0; i < res.rawHeaders.length; i += 2)
				if (!FRAMING.has(res.rawHeaders[i]!.toLowerCase()))
					headers.push(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
			recorded.push({
				path: r.path,
				status: res.status,
				headers,
				body: res.body.toString('base64')
			});
		}
		const me = JSON.parse(Buffer.from(recorded[1]!.body, 'base64').toString()) as { role: string };
		if (me.role !== 'student') throw new Error(`signed in as ${me.role}, not as a student`);
		const responsesFile = path.join(workDir, 'responses.json');
		writeFileSync(responsesFile, JSON.stringify(recorded));

		const raw = await start(
			[...serverNodeFlags, 'bench/http.ts', '--raw-server', responsesFile],
			{}
		);
		children.push(raw.child);

		const servers = {
			raw: { port: raw.port, pid: raw.child.pid!, agent: keepAliveAgent(CONCURRENCY) },
			app: { port: appPort, pid: app.child.pid!, agent: keepAliveAgent(CONCURRENCY) }
		};
		type Side = keyof typeof servers;
		const sides: Side[] = ['raw', 'app'];
		const round = (side: Side, r: (typeof requests)[number], seconds: number) =>
			measure(servers[side], r.path, r.headers, CONCURRENCY, seconds);

		// Warm-up: compiled code, full pools and open connections on both sides before measuring.
		for (const r of requests) for (const side of sides) await round(side, r, SECONDS);

		const runs = requests.map(() => ({ raw: [] as Round[], app: [] as Round[] }));
		for (let n = 0; n < ROUNDS; n++)
			for (const [i, r] of requests.entries())
				for (const side of sides) runs[i]![side].push(await round(side, r, SECONDS));
		for (const s of sides) servers[s].agent.destroy();

		// Report.
		const failed = runs.flatMap((run, i) =>
			sides.flatMap((side) =>
				run[side]
					.filter((x) => x.errors > 0)
					.map((x) => `${requests[i]!.label}, ${side}: ${x.errors} failed (${x.firstError})`)
			)
		);
		const f0 = (x: number) => x.toFixed(0);
		const f2 = (x: number) => x.toFixed(2);
		const kib = (b: string) => `${(Buffer.from(b, 'base64').length / 1024).toFixed(1)} KiB`;
		const mid = (list: Round[], pick: (x: Round) => number) => median(list.map(pick));
		const lines = [
			`HTTP requests/s, app (build/app.js, ${databaseUrl ? 'PostgreSQL' : 'PGlite'}, mock LLM, request limits off) vs raw node:http serving the app's recorded responses; ${CONCURRENCY} requests in flight on ${CONCURRENCY} keep-alive connections from one in-process client (http.request); ${SECONDS} s rounds, 1 warm-up + ${ROUNDS} measured rounds per side, raw and app alternating, medians shown; ${cpus().length} cores shared by server, database and load generator; Node ${process.version}`,
			'',
			'| request | raw req/s | app req/s | app/raw (range over rounds) | target | met |',
			'| --- | --- | --- | --- | --- | --- |'
		];
		const verdicts: string[] = [];
		for (const [i, r] of requests.entries()) {
			const { raw: rawRuns, app: appRuns } = runs[i]!;
			const rawRps = mid(rawRuns, (x) => x.rps);
			const appRps = mid(appRuns, (x) => x.rps);
			const ratio = appRps / rawRps;
			const perRound = appRuns.map((a, k) => a.rps / rawRuns[k]!.rps);
			const met = ratio >= r.target;
			verdicts.push(
				`${r.label}: app/raw ${f2(ratio)} (target >= ${r.target}): ${met ? 'met' : 'NOT met'}`
			);
			lines.push(
				`| ${r.label} \`${r.path}\`, ${kib(recorded[i]!.body)} | ${f0(rawRps)} | ${f0(appRps)} | ${f2(ratio)} (${f2(Math.min(...perRound))} to ${f2(Math.max(...perRound))}) | >= ${r.target} | ${met ? 'yes' : '**no**'} |`
			);
		}
		lines.push(
			'',
			'| request | side | latency p50 / p99 (ms) | CPU cores busy: server / PostgreSQL / load generator / other processes |',
			'| --- | --- | --- | --- |'
		);
		for (const [i, r] of requests.entries())
			for (const side of sides) {
				const list = runs[i]![side];
				const cores = (pick: (x: Round) => number) => f2(mid(list, (x) => pick(x) / x.seconds));
				lines.push(
					`| ${r.label} | ${side} | ${f2(mid(list, (x) => x.p50))} / ${f2(mid(list, (x) => x.p99))} | ${cores((x) => x.cpu.server)} / ${databaseUrl ? cores((x) => x.cpu.postgres) : '-'} / ${cores((x) => x.cpu.generator)} / ${cores((x) => x.cpu.other + (databaseUrl ? 0 : x.cpu.postgres))} |`
				);
			}
		lines.push('', ...verdicts);
		console.log(lines.join('\n'));
		if (failed.length) throw new Error(`failed requests:\n${failed.join('\n')}`);
	} finally {
		for (const child of children.reverse()) await stop(child);
		rmSync(dataDir, { recursive: true, force: true });
		rmSync(workDir, { recursive: true, force: true });
	}
}

function keepAliveAgent(sockets: number) {
	return new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/** One request; the whole response. */
function get(
	port: number,
	path: string,
	headers: Record<string, string>,
	agent?: http.Agent
): Promise<{ status: number; rawHeaders: string[]; body: Buffer }> {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (d: Buffer) => chunks.push(d));
			res.on('end', () =>
				resolve({
					status: res.statusCode!,
					rawHeaders: res.rawHeaders,
					body: Buffer.concat(chunks)
				})
			);
			res.on('error', reject);
		});
		req.on('error', reject);
		req.end();
	});
}

interface Round {
	rps: number;
	seconds: number;
	p50: number;
	p99: number;
	errors: number;
	firstError: string;
	/** CPU seconds during the round; `other`: every other process on the machine. */
	cpu: { server: number; postgres: number; generator: number; other: number };
}

/**
 * `concurrency` loops, each sending the next request when the last one's body has arrived, until
 * `seconds` have passed. A request fails on an error or a status other than 200.
 */
async function measure(
	server: { port: number; pid: number; agent: http.Agent },
	path: string,
	headers: Record<string, string>,
	concurrency: number,
	seconds: number
): Promise<Round> {
	const latencies: number[] = [];
	let errors = 0;
	let firstError = '';
	const fail = (why: string) => {
		errors++;
		firstError ||= why;
	};
	const cpuBefore = cpu(server.pid);
	const started = performance.now();
	const deadline = started + seconds * 1000;
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (performance.now() < deadline) {
				const sent = performance.now();
				try {
					const res = await get(server.port, path, headers, server.agent);
					if (res.status === 200 && res.body.length > 0) latencies.push(performance.now() - sent);
					else fail(`HTTP ${res.status}`);
				} catch (err) {
					fail((err as Error).message);
				}
			}
		})
	);
	const elapsed = (performance.now() - started) / 1000;
	const cpuAfter = cpu(server.pid);
	latencies.sort((a, b) => a - b);
	const at = (p: number) =>
		latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
	return {
		rps: latencies.length / elapsed,
		seconds: elapsed,
		p50: at(0.5),
		p99: at(0.99),
		errors,
		firstError,
		cpu: {
			server: cpuAfter.server - cpuBefore.server,
			postgres: cpuAfter.postgres - cpuBefore.postgres,
			generator: cpuAfter.generator - cpuBefore.generator,
			other:
				cpuAfter.machine -
				cpuBefore.machine -
				(cpuAfter.server - cpuBefore.server) -
				(cpuAfter.postgres - cpuBefore.postgres) -
				(cpuAfter.generator - cpuBefore.generator)
		}
	};
}

/**
 * CPU seconds (user + system) so far of the server `pid`, of PostgreSQL, of this process and of
 * the whole machine, from /proc (Linux; NaN elsewhere).
 */
function cpu(pid: number) {
	let server = NaN;
	let postgres = 0;
	if (existsSync('/proc/self/stat'))
		for (const entry of readdirSync('/proc')) {
			if (!/^\d+$/.test(entry)) continue;
			let stat: string;
			try {
				stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			} catch {
				continue; // gone
			}
			const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			const seconds = (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime; USER_HZ 100
			if (Number(entry) === pid) server = seconds;
			else if (name === 'postgres') postgres += seconds;
		}
	const own = process.cpuUsage();
	// The whole machine's busy time (all but idle and iowait): what is left is other processes.
	let machine = NaN;
	if (existsSync('/proc/stat')) {
		const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
		const n = ticks.slice(0, 8).map(Number); // user nice system idle iowait irq softirq steal
		machine = (n.reduce((a, b) => a + b, 0) - n[3]! - n[4]!) / 100;
	}
	return { server, postgres, generator: (own.user + own.system) / 1e6, machine };
}

function median(values: number[]) {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** SIGTERM (the app shuts down gracefully), SIGKILL after 10 s. */
function stop(child: ChildProcess) {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise<void>((resolve) => {
		const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
		child.once('exit', () => {
			clearTimeout(timer);
			resolve();
		});
		child.kill('SIGTERM');
	});
}
