/**
 * Response times of every student and admin page and API route, the WebSocket snapshot and first
 * token, on a small database and on one grown to a year of use (sizes in bench/scale-data.ts).
 *
 *   npm run build && node bench/scale.ts [--scale 1] [--runs 15] [--warmup 3] [--reuse] [--drop]
 *
 * Creates the databases scale_small and scale_large (BENCH_PG_URL, default the local postgres
 * superuser), starts build/app.js on each (migrations, starter content), registers the student and
 * the admin through the forms, then grows scale_large (row counts times --scale). --reuse keeps a
 * complete scale_large of the same scale; --drop drops both at the end. Both apps then run side by
 * side: per route, warm-ups, then --runs requests taking turns between the databases (so other
 * load hits both alike). A non-2xx/3xx answer is an error, printed; errors make the exit code 1.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import WebSocket from 'ws';
import { root, serverNodeFlags, start } from './lib.ts';
import * as data from './scale-data.ts';

// The values of tests/helpers/config.ts and server.ts (not importable: parameter properties).
const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const ADMIN_SETUP_CODE = 'test-admin-setup-code-0123456789';
const PASSWORD = 'scale bench password 1';

const { values: opts } = parseArgs({
	options: {
		scale: { type: 'string', default: '1' },
		runs: { type: 'string', default: '15' },
		warmup: { type: 'string', default: '3' },
		reuse: { type: 'boolean', default: false },
		drop: { type: 'boolean', default: false }
	}
});
const [SCALE, RUNS, WARMUP] = [opts.scale, opts.runs, opts.warmup].map(Number) as number[];
if (!(SCALE! > 0 && RUNS! > 0 && WARMUP! >= 0)) throw new Error('bad --scale, --runs or --warmup');
const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbUrl = (name: string) => Object.assign(new URL(PG), { pathname: `/${name}` }).toString();
const admin = postgres(PG, { max: 1, onnotice: () => {} });
const log = (line = '') => process.stdout.write(line + '\n');
const load = () => String(loadavg().map((x) => x.toFixed(2)));

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const s = createServer().once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address() as { port: number };
			s.close(() => resolve(port));
		});
	});
}

type Init = RequestInit & { headers?: Record<string, string> };
/** Keeps cookies, sends the Origin header forms carry, never follows redirects (as tests/helpers). */
class Client {
	cookies = new Map<string, string>();
	base: string;
	constructor(base: string) {
		this.base = base;
	}
	cookie() {
		return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
	}
	async fetch(pathname: string, init: Init = {}) {
		const headers = { origin: this.base, cookie: this.cookie(), ...init.headers };
		const res = await fetch(this.base + pathname, { ...init, headers, redirect: 'manual' });
		for (const line of res.headers.getSetCookie()) {
			const [name, ...rest] = line.split(';')[0]!.split('=');
			if (rest.join('=')) this.cookies.set(name!.trim(), rest.join('='));
			else this.cookies.delete(name!.trim());
		}
		return res;
	}
	/** Posts a form; expects a 303 and returns where it leads. */
	async post(pathname: string, fields: Record<string, string>) {
		const res = await this.fetch(pathname, {
			method: 'POST',
			body: new URLSearchParams(fields).toString(),
			headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }
		});
		if (res.status !== 303) throw new Error(`POST ${pathname}: ${res.status} ${await res.text()}`);
		return res.headers.get('location') ?? '';
	}
}

type Msg = { type: string; conversationId?: string; event?: { type: string } };
/** A /ws/v1 client that records every server message with its size; `next` waits for one. */
async function openSocket(c: Client) {
	const ws = new WebSocket(c.base.replace('http', 'ws') + '/ws/v1', {
		headers: { origin: c.base, cookie: c.cookie() }
	});
	const messages: { msg: Msg; bytes: number }[] = [];
	let wake = () => {};
	// Listening before 'open': the first frame can come in the same packet as the upgrade.
	ws.on('message', (data: Buffer) => {
		messages.push({ msg: JSON.parse(String(data)), bytes: data.length });
		wake();
	});
	/** The first message from index `from` on that `test` accepts; throws on a socket error. */
	const next = async (test: (m: Msg) => boolean, from = 0) => {
		const end = Date.now() + 60_000;
		for (;;) {
			const hit = messages.slice(from).find((x) => test(x.msg));
			if (hit) return hit;
			const err = messages.find((x) => x.msg.type === 'error');
			if (err) throw new Error(`socket error: ${JSON.stringify(err.msg)}`);
			if (Date.now() > end) throw new Error('socket: timed out');
			await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)));
		}
	};
	await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
	await next((m) => m.type === 'ready');
	return { ws, messages, next, send: (m: object) => ws.send(JSON.stringify({ v: 1, ...m })) };
}
type Socket = Awaited<ReturnType<typeof openSocket>>;

/** build/app.js on database `name`, as the tests start it (production, mock LLM, no limits). */
async function startApp(name: string) {
	const port = await freePort();
	const base = `http://127.0.0.1:${port}`;
	const env = {
		HOME: process.env.HOME ?? '/tmp',
		PORT: String(port),
		HOST: '127.0.0.1',
		DATA_DIR: mkdtempSync(path.join(tmpdir(), 'tutor-scale-')),
		DATABASE_URL: dbUrl(name),
		NODE_ENV: 'production',
		ORIGIN: base,
		JWT_SECRET_KEY: TEST_SECRET,
		ADMIN_EMAIL: data.ADMIN.email,
		ADMIN_SETUP_CODE,
		LLM_PROVIDER: 'mock',
		MOCK_TOKEN_DELAY_MS: '1',
		MOCK_TOKEN_COUNT: '16',
		RATE_LIMIT_ENABLED: 'false',
		// One cookie for the whole run: it must not lapse mid-run.
		ACCESS_TOKEN_TTL_SECONDS: '86400',
		LOG_LEVEL: 'warn'
	};
	const { child } = await start([...serverNodeFlags, 'build/app.js'], env, () => `${base}/health`);
	const exited = new Promise((r) => child.once('exit', r));
	return { base, stop: () => (child.kill('SIGTERM'), exited) };
}

/** Creates `name` afresh, registers the users through the app, then generates `counts` rows. */
async function prepare(name: string, counts: data.Counts, scale: number) {
	const meta = await data.metaOf(admin, name);
	if (opts.reuse && scale && meta?.complete && meta.scale === scale)
		return log(`${name}: reusing (scale ${scale})`);
	await admin.unsafe(`drop database if exists ${name} with (force)`);
	await admin.unsafe(`create database ${name}`);
	const sql = postgres(dbUrl(name), { max: 1, onnotice: () => {} });
	try {
		const app = await startApp(name);
		try {
			const student = new Client(app.base);
			await student.post('/register', { ...data.STUDENT, password: PASSWORD });
			const adm = new Client(app.base);
			await adm.post('/register', { ...data.ADMIN, password: PASSWORD });
			if ((await adm.post('/admin-setup', { code: ADMIN_SETUP_CODE })) !== '/admin')
				throw new Error('admin setup did not lead to /admin');
			await student.post('/tutor?/create', {}); // becomes the long conversation
			const [exam] = await sql<{ slug: string }[]>`select slug from exams order by position, slug`;
			const [topic] = await sql<{ area: string }[]>`select area from topics order by area`;
			await student.post('/practice?/mock', { exam: exam!.slug });
			await student.post('/practice?/diagnostic', { area: topic!.area });
		} finally {
			await app.stop();
		}
		log(`${name}: generating rows (scale ${scale || 'small'})`);
		const m: data.Meta = { scale, complete: true, ...(await data.grow(sql, counts, log)) };
		await admin.unsafe(`comment on database ${name} is '${JSON.stringify(m)}'`);
	} finally {
		await sql.end();
	}
}

// Every page and API route (GET unless said), `$name` standing for an id or slug of the database.
const STUDENT_ROUTES = `/dashboard /learn /learn/$module /learn/$module/$lesson /practice
	/practice/session /practice/session?mode=review /practice/stats /practice/mock/$mock
	/practice/diagnostic/$diagnostic /tutor /tutor?q=recursion /tutor?page=50 /tutor/$long /account
	/api/me /api/me/notebooks /api/me/notebooks/$module /api/me/practice/next
	/api/me/practice/next?mode=review`;
const ADMIN_ROUTES = `/admin /admin?q=bench /admin?q=student12 /admin/users/$student /admin/audit
	/admin/audit?action=user.disable /admin/audit?actor=bench /admin/usage /admin/usage?period=today
	/admin/usage?period=month /admin/budgets /admin/content /admin/content/packs
	/admin/content/modules/$module_id /admin/content/lessons/$lesson_id
	/admin/content/exercises/$exercise /admin/content/modules/new
	/admin/content/lessons/new?module=$module_id /admin/content/exercises/new?lesson=$lesson_id
	/admin/questions /admin/questions/$question /admin/questions/new /admin/questions/import
	/api/admin/cache/stats /api/admin/content/export /api/admin/questions/export?exam=$exam
	/api/admin/users/$student/export /health /api/health /metrics`;

interface Result {
	times: number[];
	errors: string[];
	bytes: number;
}
type Once = () => Promise<{ ms: number; bytes: number }>;
const q = (list: number[], f: number) => {
	const s = [...list].sort((a, b) => a - b);
	return s.length ? s[Math.min(s.length - 1, Math.floor(f * s.length))]! : NaN;
};

/** Warm-ups, then RUNS samples of one probe on both databases, taking turns at going first. */
async function sampleBoth(small: Once, large: Once) {
	const r: Record<'small' | 'large', Result> = {
		small: { times: [], errors: [], bytes: 0 },
		large: { times: [], errors: [], bytes: 0 }
	};
	for (let i = 0; i < WARMUP! + RUNS!; i++)
		for (const side of i % 2 ? (['large', 'small'] as const) : (['small', 'large'] as const))
			try {
				const { ms, bytes } = await (side === 'small' ? small : large)();
				if (i >= WARMUP!) r[side].times.push(ms);
				r[side].bytes = bytes;
			} catch (e) {
				r[side].errors.push((e as Error).message.slice(0, 300));
			}
	return r;
}

/** Starts the app on `name`, signs both users in, and returns every probe (route or socket). */
async function openSide(name: string) {
	const sql = postgres(dbUrl(name), { max: 1, onnotice: () => {} });
	const meta = (await data.metaOf(admin, name))!;
	const ids = await data.idsOf(sql);
	await data.reset(sql, ids, meta.longLastSeq);
	const app = await startApp(name);
	const student = new Client(app.base);
	await student.post('/login', { email: data.STUDENT.email, password: PASSWORD });
	const adm = new Client(app.base);
	await adm.post('/login', { email: data.ADMIN.email, password: PASSWORD });
	const vars: Record<string, string> = { ...(await data.routeParams(sql, ids.student)), ...ids };
	// `firstByte`: the time to the body's first chunk (a download streams); otherwise to its end.
	const http =
		(who: Client, p: string, init: Init = {}, firstByte = false): Once =>
		async () => {
			const t = performance.now();
			const headers = { accept: 'text/html' };
			const res = await who.fetch(p, { headers, signal: AbortSignal.timeout(120_000), ...init });
			let first = 0;
			const chunks: Uint8Array[] = [];
			for await (const chunk of res.body ?? []) {
				first ||= performance.now() - t;
				chunks.push(chunk);
			}
			const body = Buffer.concat(chunks);
			const ms = firstByte ? first : performance.now() - t;
			if (res.status >= 400)
				throw new Error(`${res.status} ${Buffer.from(body).toString().slice(0, 200)}`);
			return { ms, bytes: body.byteLength };
		};
	const fill = (p: string) => p.replace(/\$(\w+)/g, (_, k: string) => vars[k]!);
	const routes = (list: string, who: Client) =>
		list
			.trim()
			.split(/\s+/)
			.map((p): [string, Once] => [p.replace(/\$(\w+)/g, '<$1>'), http(who, fill(p))]);
	const json = (method: string, body: object): Init => ({
		method,
		headers: { accept: 'application/json', 'content-type': 'application/json' },
		body: JSON.stringify(body)
	});
	const answer = { questionId: vars.question, given: { choice: 0 }, timeMs: 1, mode: 'practice' };
	const code = { code: 'print("hello")' };
	const probes: [string, Once][] = [
		...routes(STUDENT_ROUTES, student),
		[
			'POST /api/me/practice/answers',
			http(student, '/api/me/practice/answers', json('POST', answer))
		],
		[
			'PUT /api/me/exercises/<exercise>/code',
			http(student, `/api/me/exercises/${vars.exercise}/code`, json('PUT', code))
		],
		...routes(ADMIN_ROUTES, adm),
		[
			'/api/admin/users/<student>/export (first byte)',
			http(adm, `/api/admin/users/${vars.student}/export`, {}, true)
		]
	];

	// WebSocket: subscribe → snapshot, and send → first delta, on a fresh and on the long conversation.
	const subscribe = (id: () => string) => async () => {
		const sock = await openSocket(student);
		const t = performance.now();
		sock.send({ type: 'subscribe', conversationId: id() });
		const snap = await sock
			.next((m) => m.type === 'snapshot' && m.conversationId === id())
			.finally(() => sock.ws.close());
		return { ms: performance.now() - t, bytes: snap.bytes };
	};
	let n = 0;
	const ask = async (sock: Socket, id: string) => {
		const from = sock.messages.length;
		const text = `Scale bench question ${++n}: how do I reverse a list?`;
		const t = performance.now();
		sock.send({ type: 'send', conversationId: id, clientId: `scale-${Date.now()}-${n}`, text });
		const isEvent = (type: string) => (m: Msg) =>
			m.type === 'event' && m.conversationId === id && m.event?.type === type;
		await sock.next(isEvent('delta'), from);
		const ms = performance.now() - t;
		await sock.next(isEvent('done'), from);
		return { ms, bytes: 0 };
	};
	const subscribed = async (id: string) => {
		const sock = await openSocket(student);
		sock.send({ type: 'subscribe', conversationId: id });
		await sock.next((m) => m.type === 'snapshot');
		return sock;
	};
	const create = async () => (await student.post('/tutor?/create', {})).split('/').pop()!;
	const fresh = await create();
	let longSocket: Socket | null = null;
	probes.push(
		['ws subscribe → snapshot (fresh)', subscribe(() => fresh)],
		['ws subscribe → snapshot (long)', subscribe(() => ids.long)],
		[
			'ws send → first token (fresh)',
			async () => {
				const id = await create();
				const sock = await subscribed(id);
				return ask(sock, id).finally(() => sock.ws.close());
			}
		],
		[
			'ws send → first token (long)',
			async () => ask((longSocket ??= await subscribed(ids.long)), ids.long)
		]
	);
	return {
		probes,
		async close() {
			longSocket?.ws.close();
			await app.stop();
			await data.reset(sql, ids, meta.longLastSeq);
			await sql.end();
		}
	};
}

async function main() {
	if (!existsSync(path.join(root, 'build/app.js')))
		throw new Error('build/app.js is missing: run `npm run build` first');
	log(`# node bench/scale.ts ${process.argv.slice(2).join(' ')}`);
	log(`scale ${SCALE}, ${RUNS} runs after ${WARMUP} warm-ups, Node ${process.version}`);
	log(`load average ${load()}`);
	const t = performance.now();
	await prepare('scale_small', data.SMALL, 0);
	await prepare('scale_large', data.largeCounts(SCALE!), SCALE!);
	log(`databases ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);
	for (const name of ['scale_small', 'scale_large']) {
		const [r] = await admin`select pg_size_pretty(pg_database_size(${name})) as size`;
		log(`  ${name}: ${r!.size}`);
	}
	log(`measuring (load average ${load()})`);
	const small = await openSide('scale_small');
	const large = await openSide('scale_large');
	const results: { label: string; small: Result; large: Result }[] = [];
	try {
		for (const [i, [label, once]] of small.probes.entries()) {
			const r = await sampleBoth(once, large.probes[i]![1]);
			results.push({ label, ...r });
			const [a, b] = [r.small, r.large].map((x) => q(x.times, 0.5).toFixed(1));
			process.stderr.write(`  ${label}: ${a} / ${b} ms\n`);
		}
	} finally {
		await small.close();
		await large.close();
	}
	log(`done (load average ${load()})`);
	const head = 'small median ms | small p90 | large median ms | large p90 | ratio | large bytes';
	log(`\n| route | ${head} |\n| --- ${'| ---: '.repeat(6)}|`);
	const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
	const over: string[] = [];
	const errors: string[] = [];
	for (const { label, small: s, large: l } of results) {
		const ratio = q(l.times, 0.5) / q(s.times, 0.5);
		if (ratio > 2) over.push(label);
		for (const [db, r] of Object.entries({ small: s, large: l }))
			if (r.errors.length)
				errors.push(`${label} (${db}): ${r.errors.length} failed: ${r.errors[0]}`);
		const cells = [q(s.times, 0.5), q(s.times, 0.9), q(l.times, 0.5), q(l.times, 0.9), ratio];
		const flag = ratio > 2 ? ' **>2x**' : '';
		log(`| ${label} | ${cells.map(f).join(' | ')}x${flag} | ${l.bytes} |`);
	}
	const { small: s, large: l } = results.find((r) => r.label.endsWith('snapshot (long)'))!;
	log(`\nlong conversation snapshot: ${s.bytes} bytes (small), ${l.bytes} (large)`);
	log(`routes over 2x: ${over.length ? over.join(', ') : 'none'}`);
	log(`errors: ${errors.length ? '\n  ' + errors.join('\n  ') : 'none'}`);
	if (opts.drop)
		for (const name of ['scale_small', 'scale_large'])
			await admin.unsafe(`drop database if exists ${name} with (force)`);
	return errors.length ? 1 : 0;
}

await main().then(
	async (code) => {
		await admin.end();
		process.exit(code);
	},
	(err: Error) => {
		console.error(err.stack ?? err);
		process.exit(1);
	}
);
