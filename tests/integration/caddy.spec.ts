/**
 * caddy/Caddyfile, run by Debian's `caddy` with Caddy's own CA (`CADDY_TLS=internal`) in front of
 * the built app, exactly as the production proxy would be: HTTPS pages with security headers,
 * HTTP redirected to HTTPS, COOP/COEP on the Python lab, and a tutor answer streamed over `wss://`
 * through the proxy, token by token.
 *
 * Skipped only when `caddy` is missing outside CI; in CI a missing caddy fails the suite.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../helpers/config.ts';
import { Client, freePort, ROOT, startServer, type RunningServer } from '../helpers/server.ts';
import { TestSocket } from '../helpers/ws.ts';

const CADDY = process.env.CADDY_PATH ?? 'caddy';
const haveCaddy = spawnSync(CADDY, ['version'], { encoding: 'utf8' }).status === 0;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000) {
	const end = Date.now() + ms;
	let last: unknown;
	while (Date.now() < end) {
		try {
			const value = await probe();
			if (value !== undefined) return value;
		} catch (error) {
			last = error;
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}

describe.runIf(haveCaddy || process.env.CI)('Caddy in front of the built app', () => {
	let app: RunningServer;
	let caddy: ChildProcess;
	let caddyLog = '';
	let home: string;
	let httpPort: number;
	let httpsPort: number;
	let base: string;

	beforeAll(async () => {
		[httpPort, httpsPort] = [await freePort(), await freePort()];
		base = `https://localhost:${httpsPort}`;
		app = await startServer({
			env: {
				JWT_SECRET_KEY: TEST_SECRET,
				ORIGIN: base,
				// What compose.prod.yaml sets for the app behind Caddy.
				PROTOCOL_HEADER: 'x-forwarded-proto',
				ADDRESS_HEADER: 'x-forwarded-for',
				TRUSTED_PROXIES: 'private_ranges',
				LLM_PROVIDER: 'mock',
				MOCK_TOKEN_COUNT: '40',
				MOCK_TOKEN_DELAY_MS: '20'
			}
		});
		// Caddy keeps certificates, its CA and autosaved config under HOME / XDG dirs: a temp dir.
		home = mkdtempSync(path.join(tmpdir(), 'tutor-caddy-'));
		caddy = spawn(CADDY, ['run', '--config', 'caddy/Caddyfile', '--adapter', 'caddyfile'], {
			cwd: ROOT,
			env: {
				PATH: process.env.PATH ?? '',
				HOME: home,
				XDG_DATA_HOME: path.join(home, 'data'),
				XDG_CONFIG_HOME: path.join(home, 'config'),
				DOMAIN: 'localhost',
				APP_UPSTREAMS: `127.0.0.1:${app.port}`,
				CADDY_TLS: 'internal',
				HTTP_PORT: String(httpPort),
				HTTPS_PORT: String(httpsPort),
				CADDY_ADMIN: `127.0.0.1:${await freePort()}`
			},
			stdio: ['ignore', 'pipe', 'pipe']
		});
		caddy.stdout!.on('data', (d) => (caddyLog += d));
		caddy.stderr!.on('data', (d) => (caddyLog += d));
		const exited = new Promise<never>((_, reject) => {
			caddy.once('error', reject);
			caddy.once('exit', (code) => reject(new Error(`caddy exited with ${code}:\n${caddyLog}`)));
		});
		exited.catch(() => {});
		// Trust Caddy's local CA in this test process only: fetch and ws then verify the real chain.
		const root = path.join(home, 'data', 'caddy', 'pki', 'authorities', 'local', 'root.crt');
		await Promise.race([
			exited,
			until('the local CA', async () => (existsSync(root) ? true : undefined))
		]);
		tls.setDefaultCACertificates([...tls.getCACertificates('default'), readFileSync(root, 'utf8')]);
		await Promise.race([
			exited,
			until('HTTPS through Caddy', async () =>
				(await fetch(`${base}/health`)).ok ? true : undefined
			)
		]);
	});

	afterAll(async () => {
		if (caddy && caddy.exitCode === null) {
			const gone = new Promise((r) => caddy.once('exit', r));
			caddy.kill('SIGTERM');
			await gone;
		}
		await app?.stop();
		if (home) rmSync(home, { recursive: true, force: true });
	});

	it('serves pages over HTTPS with the security headers, each exactly once', async () => {
		const res = await fetch(`${base}/`);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/text\/html/);
		expect(await res.text()).toMatch(/<html/i);
		const h = res.headers;
		expect(h.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
		expect(h.get('x-content-type-options')).toBe('nosniff');
		expect(h.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
		expect(h.get('x-frame-options')).toBe('DENY');
		// The app's nonce-based policy passes through untouched.
		expect(h.get('content-security-policy')).toMatch(/script-src 'self' 'nonce-[^']+'/);
		expect(h.get('content-security-policy')).toContain("frame-ancestors 'none'");
		expect(h.get('server')).toBeNull();
		// Compressed by Caddy (fetch asks for it and decodes it).
		expect(h.get('content-encoding')).toMatch(/gzip|zstd/);
	});

	it('redirects plain HTTP to HTTPS, keeping the path and query', async () => {
		const res = await fetch(`http://localhost:${httpPort}/login?next=%2Ftutor`, {
			redirect: 'manual'
		});
		expect(res.status).toBe(308);
		const location = new URL(res.headers.get('location')!);
		expect(location.protocol).toBe('https:');
		expect(location.hostname).toBe('localhost');
		expect(location.pathname + location.search).toBe('/login?next=%2Ftutor');
		// Debian's Caddy 2.6 leaves a non-standard HTTPS port out of the redirect; in production
		// the port is 443 and is never written anyway.
		expect(['', String(httpsPort)]).toContain(location.port);
	});

	it('marks the Python lab cross-origin isolated, through Caddy and from the app itself', async () => {
		for (const url of [`${base}/jupyterlite/`, `${app.url}/jupyterlite/lab/index.html`]) {
			const res = await fetch(url);
			await res.arrayBuffer();
			expect(res.headers.get('cross-origin-opener-policy'), url).toBe('same-origin');
			expect(res.headers.get('cross-origin-embedder-policy'), url).toBe('require-corp');
		}
		const page = await fetch(`${base}/login`);
		expect(page.headers.get('cross-origin-embedder-policy')).toBeNull();
	});

	it('never serves /metrics on the public site, while a scraper on the host still reads it', async () => {
		for (const pathname of ['/metrics', '/metrics/', '/metrics?format=text']) {
			const res = await fetch(`${base}${pathname}`);
			// 404 from Caddy itself: the app would answer a proxied request with 403.
			expect(res.status, pathname).toBe(404);
			expect(await res.text()).not.toContain('tutor_');
		}
		const direct = await fetch(`${app.url}/metrics`);
		expect(direct.status).toBe(200);
		expect(await direct.text()).toContain('tutor_http_request_duration_seconds');
	});

	it('streams a tutor answer over wss:// through the proxy, token by token', async () => {
		const student = new Client(base);
		const registered = await student.post('/register', {
			email: 'proxied@example.com',
			displayName: 'Proxied',
			password: 'proxied password 1'
		});
		expect(registered.status).toBe(303);
		// The app saw HTTPS (PROTOCOL_HEADER) and so marked its cookies Secure.
		expect(registered.headers.getSetCookie().every((c) => /;\s*secure/i.test(c))).toBe(true);
		const created = await student.post('/tutor?/create', {});
		expect(created.status).toBe(303);
		const id = created.headers.get('location')!.split('/').pop()!;

		const wsUrl = `wss://localhost:${httpsPort}/ws/v1`;
		await expect(
			TestSocket.connect(wsUrl, student.cookieHeader(), 'https://evil.example')
		).rejects.toThrow(/403/);
		const socket = await TestSocket.connect(wsUrl, student.cookieHeader(), base);
		const arrivals: number[] = [];
		socket.ws.on('message', () => arrivals.push(performance.now()));
		socket.send({ type: 'subscribe', conversationId: id });
		await socket.waitFor((m) => m.some((x) => x.type === 'snapshot'));
		socket.send({ type: 'send', conversationId: id, clientId: 'caddy-msg-1', text: 'Loops?' });
		await socket.waitFor(() => socket.events(id).some((e) => e.type === 'done'));
		const events = socket.events(id);
		const deltas = events.filter((e) => e.type === 'delta');
		expect(deltas).toHaveLength(40);
		// Not buffered by the proxy: frames arrived spread over the answer's ~0.8 s, not at once.
		expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(400);
		const answer = events.find((e) => e.type === 'delta')!;
		const messageId = answer.type === 'delta' ? answer.messageId : '';
		expect(socket.text(id, messageId)).toContain('Loops?');
		socket.close();
	});
});
