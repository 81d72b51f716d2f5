/**
 * `/metrics` on the built server: the Prometheus text moves with real traffic (HTTP requests by
 * route, WebSocket connections, running answers), and only a scraper that may read it gets it:
 * a direct private peer without METRICS_TOKEN, the right Bearer token with one. Who counts as
 * private is unit-tested in src/lib/server/http/metrics-access.spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../helpers/config.ts';
import { Client, newConversation, startServer, type RunningServer } from '../helpers/server.ts';
import { TestSocket } from '../helpers/ws.ts';

const PASSWORD = 'metrics password 1';
const METRICS_TOKEN = 'b7e0c4a1d93f2e6a58c1f0d7e2b9a4c6';

/** One series' value from a scrape, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
	const line = text.split('\n').find((l) => l.startsWith(`${series} `));
	return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(server: RunningServer, headers: Record<string, string> = {}) {
	const res = await fetch(`${server.url}/metrics`, { headers });
	expect(res.status).toBe(200);
	return res.text();
}

async function until(what: string, probe: () => Promise<boolean>, ms = 15_000) {
	const end = Date.now() + ms;
	while (!(await probe())) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

describe('/metrics without METRICS_TOKEN', () => {
	let server: RunningServer;
	let student: Client;

	beforeAll(async () => {
		server = await startServer({
			postgres: true,
			env: {
				JWT_SECRET_KEY: TEST_SECRET,
				LLM_PROVIDER: 'mock',
				MOCK_TOKEN_COUNT: '30',
				MOCK_TOKEN_DELAY_MS: '50'
			}
		});
		student = new Client(server.url);
		const res = await student.post('/register', {
			email: 'scraped@example.com',
			displayName: 'Scraped',
			password: PASSWORD
		});
		expect(res.status).toBe(303);
	});
	afterAll(async () => {
		await server?.stop();
		await server?.dropDatabase();
	});

	it('serves the Prometheus text format to a loopback scraper', async () => {
		const res = await fetch(`${server.url}/metrics`);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
		expect(res.headers.get('cache-control')).toBe('no-store');
		const text = await res.text();
		for (const name of [
			'tutor_http_request_duration_seconds',
			'tutor_websockets_open',
			'tutor_generations_active',
			'tutor_llm_request_duration_seconds',
			'tutor_llm_tokens_total',
			'tutor_llm_cost_usd_total',
			'tutor_response_cache_requests_total',
			'tutor_rate_limited_total',
			'process_resident_memory_bytes'
		])
			expect(text).toContain(`# TYPE ${name} `);
	});

	it('counts HTTP requests by route id, static files and unmatched paths, never by raw path', async () => {
		const series = (route: string, status: string) =>
			`tutor_http_request_duration_seconds_count{method="GET",route="${route}",status="${status}"}`;
		const before = await scrape(server);
		const login = sample(before, series('/(auth)/login', '2xx')) ?? 0;
		const lesson = sample(before, series('/(app)/learn/[module]', '3xx')) ?? 0;
		const statics = sample(before, series('static', '2xx')) ?? 0;
		const unmatched = sample(before, series('unmatched', '4xx')) ?? 0;

		expect((await fetch(`${server.url}/login`)).status).toBe(200);
		expect((await fetch(`${server.url}/login?next=%2Ftutor`)).status).toBe(200);
		const anonymousLesson = await fetch(`${server.url}/learn/some-module-slug`, {
			redirect: 'manual'
		});
		expect(anonymousLesson.status).toBe(303);
		expect((await fetch(`${server.url}/robots.txt`)).status).toBe(200);
		expect((await fetch(`${server.url}/no-such-page-4711`)).status).toBe(404);

		const after = await scrape(server);
		expect(sample(after, series('/(auth)/login', '2xx'))).toBe(login + 2);
		expect(sample(after, series('/(app)/learn/[module]', '3xx'))).toBe(lesson + 1);
		expect(sample(after, series('static', '2xx'))).toBe(statics + 1);
		expect(sample(after, series('unmatched', '4xx'))).toBe(unmatched + 1);
		for (const raw of ['some-module-slug', 'no-such-page-4711', 'robots.txt', 'next='])
			expect(after).not.toContain(raw);
	});

	it('moves the WebSocket gauge and the running-answers gauge with real sockets and answers', async () => {
		const upgrades = (text: string) =>
			sample(
				text,
				'tutor_http_request_duration_seconds_count{method="GET",route="websocket",status="1xx"}'
			) ?? 0;
		const before = await scrape(server);
		expect(sample(before, 'tutor_websockets_open')).toBe(0);
		expect(sample(before, 'tutor_generations_active')).toBe(0);

		const id = await newConversation(server, student.cookieHeader());
		const socket = await TestSocket.open(server.port, student.cookieHeader());
		const open = await scrape(server);
		expect(sample(open, 'tutor_websockets_open')).toBe(1);
		expect(upgrades(open)).toBe(upgrades(before) + 1);

		socket.send({ type: 'subscribe', conversationId: id });
		await socket.waitFor((m) => m.some((x) => x.type === 'snapshot'));
		socket.send({ type: 'send', conversationId: id, clientId: 'metrics-1', text: 'Lists?' });
		// The mock answer takes ~1.5 s: the gauge shows it while it runs, then drops back.
		await until('a running answer in the metrics', async () => {
			return sample(await scrape(server), 'tutor_generations_active') === 1;
		});
		await socket.waitFor(() => socket.events(id).some((e) => e.type === 'done'));
		await until('no running answer in the metrics', async () => {
			return sample(await scrape(server), 'tutor_generations_active') === 0;
		});

		socket.close();
		await until('the socket to leave the gauge', async () => {
			return sample(await scrape(server), 'tutor_websockets_open') === 0;
		});
	});

	it('refuses anything relayed by the reverse proxy, even from loopback', async () => {
		for (const headers of [
			{ 'x-forwarded-for': '203.0.113.7' } as Record<string, string>,
			{ 'x-forwarded-for': '127.0.0.1' },
			{ forwarded: 'for=198.51.100.4;proto=https' }
		]) {
			const res = await fetch(`${server.url}/metrics`, { headers });
			expect(res.status, JSON.stringify(headers)).toBe(403);
			expect(await res.text()).not.toContain('tutor_');
		}
	});

	it('never shows secrets, cookies or addresses of users', async () => {
		const text = await scrape(server);
		const session = [...student.cookies.values()];
		expect(session.length).toBeGreaterThan(0);
		for (const secret of [TEST_SECRET, PASSWORD, 'scraped@example.com', ...session])
			expect(text).not.toContain(secret);
		if (server.databaseUrl) expect(text).not.toContain(server.databaseUrl);
	});
});

describe('/metrics with METRICS_TOKEN', () => {
	let server: RunningServer;

	beforeAll(async () => {
		server = await startServer({
			env: { JWT_SECRET_KEY: TEST_SECRET, METRICS_TOKEN, LLM_PROVIDER: 'mock' }
		});
	});
	afterAll(async () => {
		await server?.stop();
	});

	it('answers 401 without the token or with a wrong one, even on loopback', async () => {
		for (const authorization of [
			undefined,
			'Bearer not-the-token',
			`Bearer ${METRICS_TOKEN.slice(1)}`,
			`Basic ${Buffer.from(`prometheus:${METRICS_TOKEN}`).toString('base64')}`
		]) {
			const headers: Record<string, string> = authorization ? { authorization } : {};
			const res = await fetch(`${server.url}/metrics`, { headers });
			expect(res.status, String(authorization)).toBe(401);
			expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
			const body = await res.text();
			expect(body).not.toContain('tutor_');
			expect(body).not.toContain(METRICS_TOKEN);
		}
	});

	it('serves the metrics for the right Bearer token, without ever printing it', async () => {
		const text = await scrape(server, { authorization: `Bearer ${METRICS_TOKEN}` });
		expect(text).toContain('# TYPE tutor_http_request_duration_seconds histogram');
		expect(text).not.toContain(METRICS_TOKEN);
		expect(text).not.toContain(TEST_SECRET);
		// A failed scrape is an ordinary request too, labelled with its route and status class.
		expect(
			sample(
				text,
				'tutor_http_request_duration_seconds_count{method="GET",route="/metrics",status="4xx"}'
			)
		).toBe(4);
	});
});
