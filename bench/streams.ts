/**
 * N concurrent tutor conversations streaming from the mock provider through the built server,
 * side by side with a raw `ws` server streaming the same tokens, in the same run on this machine.
 * Reports added time-to-first-token (p50, p99), added inter-token gap p99, streams that ran
 * without a stall, and memory per idle connection, each against the raw baseline.
 *
 *   npm run build && node bench/streams.ts [streams=500] [idle=500] [rounds=1]
 *
 * `streams` may be a list (`250,350,500`): each count is measured in turn, on the same two servers.
 * With several rounds, the raw server and the app take turns (raw, app, raw, app...), so a slow
 * moment of the machine hits both sides alike; each figure is then the median over the rounds, with
 * the spread of the added time shown beside it.
 *
 * Uses PostgreSQL when BENCH_DATABASE_URL (or TEST_DATABASE_URL) is set, else embedded PGlite.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { serverNodeFlags, start } from './lib.ts';

const COUNTS = (process.argv[2] ?? '500').split(',').map(Number);
const IDLE = Number(process.argv[3] ?? 500);
const ROUNDS = Number(process.argv[4] ?? 1);
if (COUNTS.some((n) => !(n > 0)) || !(IDLE > 0) || !(ROUNDS > 0))
	throw new Error('usage: bench/streams.ts [streams=500 | 250,500] [idle=500] [rounds=1]');
const STREAMS = Math.max(...COUNTS);
const TOKENS = 64;
const DELAY = 20;
const STALL_MS = 250;
// Questions differ from run to run: a repeated one would be answered from the response cache.
const RUN = crypto.randomUUID().slice(0, 8);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;

const pct = (values: number[], p: number) => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

interface StreamResult {
	ttft: number;
	gaps: number[];
	complete: boolean;
}

function open(port: number, headers: Record<string, string>): Promise<WebSocket> {
	return new Promise((resolve, reject) => {
		// A handshake that never completes fails the run instead of hanging it.
		const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/v1`, {
			headers,
			perMessageDeflate: false,
			handshakeTimeout: 30_000
		});
		ws.once('open', () => resolve(ws));
		ws.once('error', reject);
	});
}

interface Target {
	headers: Record<string, string>;
	conversationId: string;
}

/**
 * Opens a socket per target (subscribed to its conversation when `subscribe`), then starts one
 * answer on each, spread over one stream's length. Returns each stream's timings and the CPU
 * seconds the streaming phase (first question to last token) cost the server `pid`, PostgreSQL
 * and this process.
 */
async function runStreams(
	port: number,
	targets: Target[],
	subscribe: boolean,
	label = 'bench',
	pid?: number
) {
	const conversations = targets.map((t) => t.conversationId);
	const sockets = await Promise.all(targets.map((t) => open(port, t.headers)));
	if (subscribe) {
		await Promise.all(
			sockets.map(
				(ws, i) =>
					new Promise<void>((resolve, reject) => {
						const timer = setTimeout(
							() => reject(new Error(`no snapshot within 30 s for ${conversations[i]}`)),
							30_000
						);
						const onMessage = (data: WebSocket.RawData) => {
							const m = JSON.parse(String(data));
							if (m.type === 'error') reject(new Error(`subscribing: ${m.code} ${m.message}`));
							if (m.type !== 'snapshot') return;
							clearTimeout(timer);
							ws.off('message', onMessage);
							resolve();
						};
						ws.on('message', onMessage);
						ws.send(JSON.stringify({ v: 1, type: 'subscribe', conversationId: conversations[i] }));
					})
			)
		);
	}
	const cpu = cpuMeter(pid ?? -1);
	const results = await Promise.all(
		sockets.map(
			(ws, i) =>
				new Promise<StreamResult>((resolve) => {
					let sentAt = performance.now();
					let last = 0;
					let ttft = NaN;
					const gaps: number[] = [];
					let tokens = 0;
					const timeout = setTimeout(() => resolve({ ttft, gaps, complete: false }), 60_000);
					ws.on('message', (data) => {
						const m = JSON.parse(String(data));
						if (m.type !== 'event') return;
						const now = performance.now();
						if (m.event.type === 'delta') {
							tokens++;
							if (Number.isNaN(ttft)) ttft = now - sentAt;
							else gaps.push(now - last);
							last = now;
						} else if (m.event.type === 'done') {
							clearTimeout(timeout);
							resolve({ ttft, gaps, complete: tokens === TOKENS });
						}
					});
					const go = () =>
						ws.send(
							JSON.stringify({
								v: 1,
								type: 'send',
								conversationId: conversations[i],
								clientId: crypto.randomUUID(),
								text: `${label} ${RUN} ${i}`
							})
						);
					// Starts are spread over one stream's length: steady state is N streams at once.
					setTimeout(
						() => {
							sentAt = performance.now();
							go();
						},
						(i * TOKENS * DELAY) / sockets.length
					);
				})
		)
	);
	const used = cpu();
	for (const ws of sockets) ws.close();
	return { results, cpu: used };
}

/**
 * Retained memory per idle connection. A first batch opens and closes (so the heap has grown past
 * the garbage of handshakes); then, three times, the server's JavaScript heap plus external
 * memory (buffers) is read after a full collection, before and after a batch of idle sockets is
 * open. Reports the median per socket. (RSS is not used: after the first batch the process reuses
 * pages it already holds, so RSS barely moves and its difference is noise, in both servers.)
 */
async function idleMemory(pid: number, port: number, headers: Record<string, string>) {
	const memoryFile = path.join(tmpdir(), `bench-memory-${pid}.json`);
	const batch = () => Promise.all(Array.from({ length: IDLE }, () => open(port, headers)));
	const settled = async () => {
		rmSync(memoryFile, { force: true });
		process.kill(pid, 'SIGUSR2'); // bench/gc-on-signal.js: a full collection, then the figures
		await new Promise((r) => setTimeout(r, 2000));
		const usage = JSON.parse(readFileSync(memoryFile, 'utf8'));
		return usage.heapUsed + usage.external;
	};
	for (const ws of await batch()) ws.close();
	await new Promise((r) => setTimeout(r, 1000));
	const perSocket: number[] = [];
	for (let round = 0; round < 3; round++) {
		const before = await settled();
		const sockets = await batch();
		const after = await settled();
		perSocket.push(Math.max(0, after - before) / IDLE);
		for (const ws of sockets) ws.close();
		await new Promise((r) => setTimeout(r, 1000));
	}
	return pct(perSocket, 50);
}

/**
 * CPU seconds (user + system) used so far by the processes `pick` selects, from /proc (Linux;
 * NaN elsewhere). Read around the measured run, it shows what each side costs: the server, the
 * database, and this load generator.
 */
function cpuSeconds(pick: (pid: number, name: string) => boolean) {
	if (!existsSync('/proc/self/stat')) return NaN;
	let ticks = 0;
	for (const entry of readdirSync('/proc')) {
		const pid = Number(entry);
		if (!Number.isInteger(pid)) continue;
		let stat: string;
		try {
			stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		} catch {
			continue; // gone
		}
		const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
		if (!pick(pid, name)) continue;
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
	}
	return ticks / 100; // USER_HZ is 100 on Linux
}

/**
 * The main thread's time on a CPU and time waiting for one (runnable, in the run queue), in
 * seconds, from /proc/<pid>/task/<pid>/schedstat (Linux; NaN elsewhere). Every event of a Node
 * server runs on that thread, so the wait adds to each first token and each gap.
 */
function schedSeconds(pid: number) {
	try {
		const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ');
		return { run: Number(run) / 1e9, wait: Number(wait) / 1e9 };
	} catch {
		return { run: NaN, wait: NaN };
	}
}

/**
 * Starts counting the CPU of the server `pid`, PostgreSQL and this process, and the server main
 * thread's run and run-queue times; call to read.
 */
function cpuMeter(pid: number) {
	const sides = {
		server: (p: number) => p === pid,
		postgres: (_: number, name: string) => name === 'postgres',
		generator: (p: number) => p === process.pid
	};
	const read = () =>
		Object.fromEntries(Object.entries(sides).map(([k, pick]) => [k, cpuSeconds(pick)]));
	const before = read();
	const schedBefore = schedSeconds(pid);
	return () => {
		const after = read();
		const schedAfter = schedSeconds(pid);
		const used = Object.fromEntries(Object.keys(sides).map((k) => [k, after[k]! - before[k]!]));
		return {
			...(used as Record<keyof typeof sides, number>),
			mainRun: schedAfter.run - schedBefore.run,
			mainWait: schedAfter.wait - schedBefore.wait
		};
	};
}

function summarize(results: StreamResult[]) {
	const ttft = results.map((r) => r.ttft).filter((x) => !Number.isNaN(x));
	const gaps = results.flatMap((r) => r.gaps);
	const stallFree = results.filter((r) => r.complete && r.gaps.every((g) => g < STALL_MS)).length;
	return { ttftP50: pct(ttft, 50), ttftP99: pct(ttft, 99), gapP99: pct(gaps, 99), stallFree };
}

const env = {
	MOCK_TOKEN_COUNT: String(TOKENS),
	MOCK_TOKEN_DELAY_MS: String(DELAY),
	NODE_OPTIONS: `--expose-gc --import=${path.join(import.meta.dirname, 'gc-on-signal.js')}`,
	BENCH_MEMORY_DIR: tmpdir()
};

// Both servers stay up for the whole run; only the one being measured has work.
const raw = await start(['bench/raw-ws-server.ts'], {
	...env,
	...(process.env.BENCH_RAW_NODE_OPTIONS
		? { NODE_OPTIONS: `${env.NODE_OPTIONS} ${process.env.BENCH_RAW_NODE_OPTIONS}` }
		: {})
});
const rawTargets = Array.from({ length: STREAMS }, () => ({
	headers: {},
	conversationId: crypto.randomUUID()
}));

const appPort = 4600 + Math.floor(Math.random() * 300);
const dataDir = mkdtempSync(path.join(tmpdir(), 'tutor-bench-'));
const app = await start(
	[...serverNodeFlags, 'build/app.js'],
	{
		...env,
		PORT: String(appPort),
		DATA_DIR: dataDir,
		LLM_PROVIDER: 'mock',
		LOG_LEVEL: 'warn',
		...(process.env.BENCH_NODE_OPTIONS
			? { NODE_OPTIONS: `${env.NODE_OPTIONS} ${process.env.BENCH_NODE_OPTIONS}` }
			: {}),
		// One address registers the whole class and opens every conversation: no request limits.
		RATE_LIMIT_ENABLED: 'false',
		// 500 answers at once reserve about 25 $ of worst-case cost: more than the default daily
		// server budget (20 $), which would send some to the offline tutor. The budgets stay on.
		BUDGET_GLOBAL_DAILY_USD: '1000',
		WS_MAX_MESSAGES_PER_SECOND: '1000',
		// The idle-memory batch opens every socket as one student.
		WS_MAX_SOCKETS_PER_USER: '10000',
		// Registrations are counted per address in the database, across runs.
		REGISTER_RATE_LIMIT: '10000',
		...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
		// Experiments: BENCH_APP_X=y sets X=y for the app only.
		...Object.fromEntries(
			Object.entries(process.env)
				.filter(([k, v]) => k.startsWith('BENCH_APP_') && v !== undefined)
				.map(([k, v]) => [k.slice('BENCH_APP_'.length), v!])
		)
	},
	(port) => `http://127.0.0.1:${port}/health`
);
const base = `http://127.0.0.1:${appPort}`;
const origin = base;
// A class: one student per five conversations, as in a lab where each has a few chats open.
async function register(i: number) {
	const res = await fetch(`${base}/register`, {
		method: 'POST',
		redirect: 'manual',
		headers: { origin, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({
			email: `bench-${Date.now()}-${i}@example.com`,
			displayName: `Student ${i}`,
			password: 'bench password 1'
		})
	});
	if (res.status !== 303) throw new Error(`registering: HTTP ${res.status}`);
	const cookie = res.headers
		.getSetCookie()
		.map((c) => c.split(';')[0])
		.join('; ');
	return { origin, cookie };
}
async function createConversation(headers: Record<string, string>) {
	const res = await fetch(`${base}/tutor?/create`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			...headers,
			accept: 'text/html',
			'content-type': 'application/x-www-form-urlencoded'
		},
		body: ''
	});
	const location = res.headers.get('location');
	if (!location)
		throw new Error(
			`creating a conversation: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`
		);
	return location.split('/').pop()!;
}
const students: Record<string, string>[] = [];
for (let i = 0; i < Math.ceil(STREAMS / 5); i++) students.push(await register(i));
async function targets(n: number): Promise<Target[]> {
	const list: Target[] = [];
	for (let i = 0; i < n; i++) {
		const headers = students[i % students.length]!;
		list.push({ headers, conversationId: await createConversation(headers) });
	}
	return list;
}
// Each round asks a new question in the same conversations (each label is new: no cache hits).
const appTargets = await targets(STREAMS);
// Steady state, as in a server that has been up for a while: before anything is measured, each
// server streams one unmeasured round at the largest count, so its code is compiled and its
// pools are full. (With only a few warm-up streams, the first measured questions of the app ran
// its per-question code in V8's baseline tier, and the added time to first token doubled.)
await runStreams(raw.port, rawTargets, false, 'warm-up');
await runStreams(appPort, appTargets, true, 'warm-up');

type Run = Awaited<ReturnType<typeof runStreams>>;
const measured = new Map<number, { raw: Run[]; app: Run[] }>();
for (const n of COUNTS) {
	const runs = { raw: [] as Run[], app: [] as Run[] };
	measured.set(n, runs);
	for (let round = 0; round < ROUNDS; round++) {
		const label = `bench n${n} r${round}`;
		runs.raw.push(await runStreams(raw.port, rawTargets.slice(0, n), false, label, raw.child.pid));
		runs.app.push(await runStreams(appPort, appTargets.slice(0, n), true, label, app.child.pid));
	}
}
// How many answers started beside the send statement (see TutorEngine.send) and how many of
// those guesses were cancelled.
const early = Object.fromEntries(
	[
		...(await (await fetch(`${base}/metrics`)).text()).matchAll(
			/^tutor_early_starts_total\{outcome="(\w+)"\} (\d+)/gm
		)
	].map((m) => [m[1], Number(m[2])])
);
const rawIdle = await idleMemory(raw.child.pid!, raw.port, {});
raw.child.kill('SIGKILL');
const appIdle = await idleMemory(app.child.pid!, appPort, students[0]!);
app.child.kill('SIGTERM');

const f = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const median = (values: number[]) => pct(values, 50);
/** The median over the rounds; with several rounds, the range beside it. */
const spread = (values: number[], show: (x: number) => string) =>
	values.length > 1
		? `${show(median(values))} (${show(Math.min(...values))} to ${show(Math.max(...values))})`
		: show(values[0]!);
const lines = [
	`streams: ${COUNTS.join(', ')} concurrent (${students.length} students), starts spread over one stream's length, ${TOKENS} tokens ${DELAY} ms apart; rounds: ${ROUNDS}, raw and app alternating; idle connections: ${IDLE}; database: ${databaseUrl ? 'PostgreSQL' : 'PGlite'}`,
	`early starts (app, whole run): ${early.used ?? 0} used, ${early.discarded ?? 0} discarded`
];
for (const [n, runs] of measured) {
	const raws = runs.raw.map((r) => summarize(r.results));
	const apps = runs.app.map((r) => summarize(r.results));
	const pick = (list: ReturnType<typeof summarize>[], k: keyof ReturnType<typeof summarize>) =>
		median(list.map((x) => x[k]));
	const added = (x: number) => `+${f(x)}`;
	const diff = (k: 'ttftP50' | 'ttftP99' | 'gapP99') => apps.map((a, i) => a[k] - raws[i]![k]);
	const cpu = (list: Run[], k: keyof Run['cpu']) => f2(median(list.map((r) => r.cpu[k])));
	lines.push(
		'',
		`### ${n} concurrent streams${ROUNDS > 1 ? ` (median of ${ROUNDS} rounds; range of the added time in brackets)` : ''}`,
		'',
		'| metric | raw ws | app | added / ratio |',
		'| --- | --- | --- | --- |',
		`| time to first token p50 (ms) | ${f(pick(raws, 'ttftP50'))} | ${f(pick(apps, 'ttftP50'))} | ${spread(diff('ttftP50'), added)} |`,
		`| time to first token p99 (ms) | ${f(pick(raws, 'ttftP99'))} | ${f(pick(apps, 'ttftP99'))} | ${spread(diff('ttftP99'), added)} |`,
		`| inter-token gap p99 (ms) | ${f(pick(raws, 'gapP99'))} | ${f(pick(apps, 'gapP99'))} | ${spread(diff('gapP99'), added)} |`,
		`| streams without a stall (gap < ${STALL_MS} ms, all tokens) | ${pick(raws, 'stallFree')} | ${pick(apps, 'stallFree')} | ${spread(
			apps.map((a, i) => a.stallFree / Math.max(1, raws[i]!.stallFree)),
			(x) => `${x.toFixed(2)}x`
		)} |`,
		'',
		`CPU seconds during the measured streams (server / PostgreSQL / load generator): raw ws ${cpu(runs.raw, 'server')} / ${cpu(runs.raw, 'postgres')} / ${cpu(runs.raw, 'generator')}; app ${cpu(runs.app, 'server')} / ${cpu(runs.app, 'postgres')} / ${cpu(runs.app, 'generator')}`,
		`server main thread, seconds on a CPU / waiting in the run queue for one: raw ws ${cpu(runs.raw, 'mainRun')} / ${cpu(runs.raw, 'mainWait')}; app ${cpu(runs.app, 'mainRun')} / ${cpu(runs.app, 'mainWait')}`
	);
}
lines.push(
	'',
	`memory per idle connection, heap + external (KiB): raw ws ${(rawIdle / 1024).toFixed(2)}, app ${(appIdle / 1024).toFixed(2)}, ${(appIdle / rawIdle).toFixed(2)}x`
);
console.log(lines.join('\n'));
process.exit(0);
