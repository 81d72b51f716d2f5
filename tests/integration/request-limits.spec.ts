/**
 * Request limits on the built server: RateLimit-* headers on every counted response, 429 with
 * Retry-After once a window is full, keys per user or per client address, refused WebSocket
 * messages answered with the protocol's error, and two server processes on one PostgreSQL database
 * admitting exactly the limit between them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../helpers/config.ts';
import { createPostgresDatabase, drivers, TEST_DATABASE_URL } from '../helpers/db.ts';
import { Client, newConversation, startServer, type RunningServer } from '../helpers/server.ts';
import { TestSocket } from '../helpers/ws.ts';

const PASSWORD = 'rate limit password 1';

// Each client claims its own address: the server reads it from x-forwarded-for, as behind Caddy
// (the loopback peer is a trusted proxy by default).
const env = {
	JWT_SECRET_KEY: TEST_SECRET,
	LLM_PROVIDER: 'mock',
	MOCK_TOKEN_COUNT: '4',
	MOCK_TOKEN_DELAY_MS: '1',
	ADDRESS_HEADER: 'x-forwarded-for'
};
const clientAt = (server: RunningServer, ip: string) =>
	new Client(server.url, { 'x-forwarded-for': ip });

async function register(server: RunningServer, ip: string, email: string) {
	const c = clientAt(server, ip);
	const res = await c.post('/register', { email, displayName: 'Student', password: PASSWORD });
	expect(res.status).toBe(303);
	return c;
}

/** The scopes /metrics has counted refusals for (read as the operator's scraper on this host). */
async function refusalsCounted(server: RunningServer) {
	const text = await (await new Client(server.url).fetch('/metrics')).text();
	return [...text.matchAll(/^tutor_rate_limited_total\{scope="(\w+)"\} [1-9]/gm)].map((m) => m[1]);
}

const limitHeaders = (res: Response) => ({
	limit: res.headers.get('ratelimit-limit'),
	remaining: res.headers.get('ratelimit-remaining'),
	reset: Number(res.headers.get('ratelimit-reset')),
	policy: res.headers.get('ratelimit-policy')
});

describe.each(drivers)('request limits on one server (%s)', (driver) => {
	let server: RunningServer;
	beforeAll(async () => {
		server = await startServer({
			postgres: driver === 'postgres',
			env: {
				...env,
				API_RATE_LIMIT_READ: '5',
				API_RATE_LIMIT_WRITE: '3',
				WS_RATE_LIMIT_SUBSCRIBE: '3',
				WS_RATE_LIMIT_UNSUBSCRIBE: '2',
				WS_RATE_LIMIT_STOP: '2',
				RATE_LIMIT_MAX: '2'
			}
		});
	});
	afterAll(async () => {
		await server?.stop('SIGKILL');
		await server?.dropDatabase();
	});

	it('counts API reads with RateLimit headers, then refuses with 429, Retry-After and JSON', async () => {
		const anon = clientAt(server, '10.1.0.1');
		const seen = [];
		for (let i = 0; i < 5; i++) {
			const res = await anon.fetch('/api/health');
			expect(res.status).toBe(200);
			seen.push(limitHeaders(res));
		}
		expect(seen.map((h) => h.remaining)).toEqual(['4', '3', '2', '1', '0']);
		for (const h of seen) {
			expect(h.limit).toBe('5');
			expect(h.policy).toBe('5;w=60');
			expect(h.reset).toBeGreaterThan(0);
			expect(h.reset).toBeLessThanOrEqual(60);
		}
		const refused = await anon.fetch('/api/health');
		expect(refused.status).toBe(429);
		const retryAfter = Number(refused.headers.get('retry-after'));
		expect(retryAfter).toBeGreaterThan(0);
		expect(retryAfter).toBeLessThanOrEqual(60);
		expect(limitHeaders(refused)).toMatchObject({ limit: '5', remaining: '0', reset: retryAfter });
		expect(await refused.json()).toEqual({
			error: 'rate_limited',
			message: expect.stringMatching(/Try again in \d+ seconds?\./),
			retryAfterSeconds: retryAfter
		});
		expect(await refusalsCounted(server)).toContain('http_read');
		// The liveness probe is never counted, page loads neither.
		const live = await anon.fetch('/health');
		expect(live.status).toBe(200);
		expect(live.headers.get('ratelimit-limit')).toBeNull();
		const page = await anon.fetch('/login', { headers: { accept: 'text/html' } });
		expect(page.status).toBe(200);
		expect(page.headers.get('ratelimit-limit')).toBeNull();
	});

	it('keys signed-out requests by client address and signed-in ones by user', async () => {
		for (let i = 0; i < 6; i++) await clientAt(server, '10.1.1.1').fetch('/api/health');
		expect((await clientAt(server, '10.1.1.1').fetch('/api/health')).status).toBe(429);
		// Another address has its own window.
		const other = await clientAt(server, '10.1.1.2').fetch('/api/health');
		expect(other.status).toBe(200);
		expect(other.headers.get('ratelimit-remaining')).toBe('4');
		// A student at the exhausted address counts on their own key...
		const student = await register(server, '10.1.1.3', 'keyed@example.com');
		const atFull = new Client(server.url, { 'x-forwarded-for': '10.1.1.1' });
		atFull.cookies = student.cookies;
		const mine = await atFull.fetch('/api/me');
		expect(mine.status).toBe(200);
		expect(mine.headers.get('ratelimit-remaining')).toBe('4');
		// ...which follows them to any address.
		const elsewhere = new Client(server.url, { 'x-forwarded-for': '10.1.1.4' });
		elsewhere.cookies = student.cookies;
		expect((await elsewhere.fetch('/api/me')).headers.get('ratelimit-remaining')).toBe('3');
		// Signed-out calls to guarded endpoints count too (by address) before the 401.
		const guarded = await clientAt(server, '10.1.1.5').fetch('/api/me');
		expect(guarded.status).toBe(401);
		expect(guarded.headers.get('ratelimit-remaining')).toBe('4');
	});

	it('limits form actions: 429 as an ActionResult for enhanced forms and as a page without JS', async () => {
		// Registering counted against the address; from here on the student's own key counts.
		const student = await register(server, '10.1.2.1', 'forms@example.com');
		const remaining = [];
		for (let i = 0; i < 3; i++) {
			const res = await student.post('/tutor?/create', {});
			expect(res.status).toBe(303);
			expect(res.headers.get('ratelimit-policy')).toBe('3;w=60');
			remaining.push(res.headers.get('ratelimit-remaining'));
		}
		expect(remaining).toEqual(['2', '1', '0']);
		const enhanced = await student.post(
			'/tutor?/create',
			{},
			{ accept: 'application/json', 'x-sveltekit-action': 'true' }
		);
		expect(enhanced.status).toBe(429);
		expect(Number(enhanced.headers.get('retry-after'))).toBeGreaterThan(0);
		const result = await enhanced.json();
		expect(result).toMatchObject({
			type: 'error',
			error: { message: expect.stringMatching(/very fast. Try again in \d+ seconds?\./) }
		});
		const plain = await student.post('/tutor?/create', {});
		expect(plain.status).toBe(429);
		expect(plain.headers.get('content-type')).toMatch(/text\/html/);
		expect(await plain.text()).toMatch(/Slow down a little.*Try again in \d+ seconds?/s);
		expect(await refusalsCounted(server)).toContain('http_write');
		// Writes to the API share the window.
		const api = await student.fetch('/api/me/notebooks/intro', { method: 'DELETE' });
		expect(api.status).toBe(429);
		expect(await api.json()).toMatchObject({ error: 'rate_limited' });
	});

	it('answers a WebSocket message over its per-user limit with a rate_limited error', async () => {
		const student = await register(server, '10.1.3.1', 'socket@example.com');
		const cookie = student.cookieHeader();
		const id = await newConversation(server, cookie);
		const ws = await TestSocket.open(server.port, cookie);
		try {
			for (let i = 0; i < 4; i++) ws.send({ type: 'subscribe', conversationId: id });
			const errors = () => ws.messages.filter((m) => m.type === 'error');
			const snapshots = () => ws.messages.filter((m) => m.type === 'snapshot');
			await ws.waitFor(() => snapshots().length + errors().length === 4);
			expect(snapshots()).toHaveLength(3);
			const [refused] = errors();
			expect(refused).toMatchObject({
				type: 'error',
				code: 'rate_limited',
				conversationId: id,
				message: expect.stringMatching(/opening conversations very fast/)
			});
			expect(refused?.type === 'error' && refused.retryAfterSeconds).toBeGreaterThan(0);

			// The limit is the user's, not the socket's: a second socket is refused as well.
			const second = await TestSocket.open(server.port, cookie);
			second.send({ type: 'subscribe', conversationId: id });
			await second.waitFor((m) => m.some((x) => x.type === 'error'));
			expect(second.messages.find((m) => m.type === 'error')).toMatchObject({
				code: 'rate_limited'
			});
			second.close();

			// stop and unsubscribe have their own windows; ping is never counted in the database.
			for (let i = 0; i < 3; i++) ws.send({ type: 'stop', conversationId: id });
			await ws.waitFor(() => errors().length === 2);
			expect(errors()[1]).toMatchObject({ code: 'rate_limited', message: /Stop very fast/ });
			for (let i = 0; i < 3; i++) ws.send({ type: 'unsubscribe', conversationId: id });
			await ws.waitFor(() => errors().length === 3);
			expect(errors()[2]).toMatchObject({ code: 'rate_limited', message: /leaving/ });
			for (let i = 0; i < 5; i++) ws.send({ type: 'ping', id: `p${i}` });
			await ws.waitFor((m) => m.filter((x) => x.type === 'pong').length === 5);

			// The tutor's own limit comes from RATE_LIMIT_MAX (2 here): the third question is refused.
			for (let i = 0; i < 3; i++)
				ws.send({ type: 'send', conversationId: id, clientId: `limit-msg-${i}`, text: 'Hi' });
			await ws.waitFor(() =>
				errors().some((e) => e.type === 'error' && e.message.match(/messages/))
			);
			const tutorRefusal = errors().find((e) => e.type === 'error' && /messages/.test(e.message));
			expect(tutorRefusal).toMatchObject({ code: 'rate_limited', conversationId: id });
			expect(await refusalsCounted(server)).toEqual(
				expect.arrayContaining(['ws_subscribe', 'ws_stop', 'ws_unsubscribe'])
			);
		} finally {
			ws.close();
		}
	});
});

describe('RATE_LIMIT_ENABLED=false', () => {
	let server: RunningServer;
	beforeAll(async () => {
		server = await startServer({
			env: { ...env, RATE_LIMIT_ENABLED: 'false', API_RATE_LIMIT_READ: '1', LOGIN_RATE_LIMIT: '2' }
		});
	});
	afterAll(async () => {
		await server?.stop('SIGKILL');
	});

	it('applies no request limits but keeps the login brute-force limit', async () => {
		const anon = clientAt(server, '10.2.0.1');
		for (let i = 0; i < 4; i++) {
			const res = await anon.fetch('/api/health');
			expect(res.status).toBe(200);
			expect(res.headers.get('ratelimit-limit')).toBeNull();
		}
		const statuses = [];
		for (let i = 0; i < 3; i++)
			statuses.push(
				(await anon.post('/login', { email: 'nobody@example.com', password: `guess ${i} xxxx` }))
					.status
			);
		expect(statuses).toEqual([400, 400, 429]);
	});
});

describe.runIf(TEST_DATABASE_URL)('two server processes on one PostgreSQL database', () => {
	let a: RunningServer;
	let b: RunningServer;
	let drop: () => Promise<void>;
	const LIMIT = 25;

	beforeAll(async () => {
		const created = await createPostgresDatabase();
		drop = created.drop;
		const shared = {
			...env,
			API_RATE_LIMIT_READ: String(LIMIT),
			WS_RATE_LIMIT_SUBSCRIBE: '6'
		};
		[a, b] = await Promise.all([
			startServer({ databaseUrl: created.url, env: shared }),
			startServer({ databaseUrl: created.url, env: shared })
		]);
	});
	afterAll(async () => {
		await a?.stop('SIGKILL');
		await b?.stop('SIGKILL');
		await drop?.();
	});

	it('admit exactly the limit between them under concurrent requests, per address and per user', async () => {
		const burst = (path: string, make: (s: RunningServer) => Client) =>
			Promise.all(
				Array.from({ length: 3 * LIMIT }, (_, i) => make(i % 2 ? a : b).fetch(path))
			).then((all) => all.map((r) => r.status));

		const byAddress = await burst('/api/health', (s) => clientAt(s, '10.3.0.1'));
		expect(byAddress.filter((s) => s === 200)).toHaveLength(LIMIT);
		expect(byAddress.filter((s) => s === 429)).toHaveLength(2 * LIMIT);

		const student = await register(a, '10.3.0.2', 'replicas@example.com');
		const byUser = await burst('/api/me', (s) => {
			const c = clientAt(s, `10.3.1.${Math.floor(Math.random() * 200)}`);
			c.cookies = student.cookies;
			return c;
		});
		expect(byUser.filter((s) => s === 200)).toHaveLength(LIMIT);
		expect(byUser.filter((s) => s === 429)).toHaveLength(2 * LIMIT);
	});

	it('share WebSocket message limits across replicas', async () => {
		const student = await register(b, '10.3.2.1', 'replica-socket@example.com');
		const cookie = student.cookieHeader();
		const id = await newConversation(a, cookie);
		const sockets = await Promise.all([
			TestSocket.open(a.port, cookie),
			TestSocket.open(b.port, cookie)
		]);
		try {
			for (let i = 0; i < 6; i++)
				for (const ws of sockets) ws.send({ type: 'subscribe', conversationId: id });
			const count = (type: string) =>
				sockets.reduce((n, ws) => n + ws.messages.filter((m) => m.type === type).length, 0);
			await Promise.all(
				sockets.map((ws) =>
					ws.waitFor(
						(m) => m.filter((x) => x.type === 'snapshot' || x.type === 'error').length === 6
					)
				)
			);
			expect(count('snapshot')).toBe(6);
			expect(count('error')).toBe(6);
		} finally {
			for (const ws of sockets) ws.close();
		}
	});
});
