/**
 * The findings of an attack on the running app, each replayed against the built server: raw TCP
 * resets on upgrades, sockets and frames per user, forwarded addresses from an untrusted peer, a
 * lying content pack, crafted input, log out, and the first administrator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { zipSync } from 'fflate';
import WebSocket from 'ws';
import { TEST_SECRET } from '../helpers/config.ts';
import { Client, startServer, type RunningServer } from '../helpers/server.ts';

const PASSWORD = 'correct horse battery staple';
const ADMIN = 'first.admin@example.com';
let server: RunningServer;
let origin: string;

const client = () => new Client(server.url);

async function register(email: string) {
	const c = client();
	const res = await c.post('/register', {
		email,
		displayName: email.split('@')[0]!,
		password: PASSWORD
	});
	expect(res.status).toBe(303);
	return c;
}

async function login(email: string) {
	const c = client();
	expect((await c.post('/login', { email, password: PASSWORD })).status).toBe(303);
	return c;
}

/** Opens a socket as `c`; resolves with the socket after `ready`, or with the refusal's status. */
function openSocket(c: Client) {
	return new Promise<{ status: number; ws?: WebSocket; retryAfter?: string }>((resolve, reject) => {
		const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws/v1`, {
			headers: { origin, cookie: c.cookieHeader() }
		});
		ws.once('unexpected-response', (_req, res) => {
			resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string });
			ws.terminate();
		});
		ws.once('message', () => resolve({ status: 101, ws }));
		ws.once('error', (err) => {
			if (!String(err.message).includes('Unexpected server response')) reject(err);
		});
	});
}

function messages(ws: WebSocket) {
	const seen: Record<string, unknown>[] = [];
	ws.on('message', (d) => seen.push(JSON.parse(String(d))));
	return seen;
}

function closed(ws: WebSocket) {
	return new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
}

beforeAll(async () => {
	server = await startServer({
		postgres: true,
		env: {
			JWT_SECRET_KEY: TEST_SECRET,
			ADMIN_EMAIL: ADMIN,
			LLM_PROVIDER: 'mock',
			// The proxy headers are named, but this test's loopback peer is not a trusted proxy.
			PROTOCOL_HEADER: 'x-forwarded-proto',
			ADDRESS_HEADER: 'x-forwarded-for',
			TRUSTED_PROXIES: '192.0.2.1',
			API_RATE_LIMIT_READ: '40',
			WS_MAX_SOCKETS_PER_USER: '3',
			WS_MAX_MESSAGES_PER_SECOND: '5',
			WS_RATE_LIMIT_CONNECT: '4'
		}
	});
	origin = `http://localhost:${server.port}`;
});
afterAll(async () => {
	await server?.stop('SIGKILL');
	await server?.dropDatabase();
});

describe('a peer resetting the connection', () => {
	const key = 'dGhlIHNhbXBsZSBub25jZQ==';
	const upgrade = (target: string, protocol = 'websocket', headers = '') =>
		`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n` +
		`Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`;
	const shapes = {
		'an upgrade outside /ws/': upgrade('/'),
		'an upgrade to //host/ws/v1': upgrade('//localhost/ws/v1'),
		'an h2c upgrade on /ws/v1': upgrade('/ws/v1', 'h2c'),
		'an upgrade to an unknown /ws/ path': upgrade(
			'/ws/nope',
			'websocket',
			`Origin: http://localhost\r\n`
		),
		'a WebSocket upgrade from a foreign origin': upgrade(
			'/ws/v1',
			'websocket',
			'Origin: https://evil.example\r\n'
		),
		'a WebSocket upgrade without a session': upgrade('/ws/v1', 'websocket', 'Origin: ORIGIN\r\n'),
		'a plain request': 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n'
	};

	/** Writes `request` and resets the connection at `point`. */
	function attack(request: string, point: 'sent' | 'answered' | 'half-sent') {
		return new Promise<void>((resolve) => {
			const socket: Socket = connect(server.port, '127.0.0.1', () => {
				const text = request.replace('ORIGIN', origin);
				if (point === 'half-sent') {
					socket.write(text.slice(0, text.length / 2));
					socket.resetAndDestroy();
				} else {
					socket.write(text);
					if (point === 'sent') socket.resetAndDestroy();
				}
			});
			socket.once('data', () => socket.resetAndDestroy());
			socket.on('error', () => {});
			socket.once('close', () => resolve());
		});
	}

	it.each(Object.entries(shapes))(
		'%s, reset at every point, leaves the server up',
		async (_name, request) => {
			for (let round = 0; round < 5; round++)
				await Promise.all(
					(['sent', 'answered', 'half-sent'] as const).map((point) => attack(request, point))
				);
			expect((await fetch(`${server.url}/health`)).status).toBe(200);
			expect(server.child.exitCode).toBeNull();
			expect(server.logs()).not.toMatch(/ECONNRESET|uncaught/i);
		}
	);
});

describe('sockets and frames per user', () => {
	it('caps the sockets one user has open, and shares one frame budget among them', async () => {
		const c = await register('many.sockets@example.com');
		const open = [await openSocket(c), await openSocket(c), await openSocket(c)];
		expect(open.map((o) => o.status)).toEqual([101, 101, 101]);
		const fourth = await openSocket(c);
		expect(fourth.status).toBe(429);
		// Five frames a second for the user, not for each socket: 4 pings on each of two sockets.
		const [a, b] = [open[0]!.ws!, open[1]!.ws!];
		const seenA = messages(a);
		const seenB = messages(b);
		for (let i = 0; i < 4; i++) {
			a.send(JSON.stringify({ v: 1, type: 'ping', id: `a${i}` }));
			b.send(JSON.stringify({ v: 1, type: 'ping', id: `b${i}` }));
		}
		await expect.poll(() => seenA.length + seenB.length).toBe(8);
		const refused = [...seenA, ...seenB].filter((m) => m.code === 'rate_limited');
		// 3 when the frames arrive together; fewer if a busy machine spreads them out.
		expect(refused.length).toBeGreaterThanOrEqual(1);
		for (const o of open) o.ws!.close();
		await Promise.all(open.map((o) => (o.ws!.readyState === WebSocket.CLOSED ? 0 : closed(o.ws!))));
		// Closed sockets free their places.
		const again = await openSocket(c);
		expect(again.status).toBe(101);
		again.ws!.close();
	});

	it('limits how fast one user opens sockets, in the table every replica shares', async () => {
		const c = await register('fast.opener@example.com');
		for (let i = 0; i < 4; i++) {
			const o = await openSocket(c);
			expect(o.status).toBe(101);
			o.ws!.close();
			await closed(o.ws!);
		}
		const refused = await openSocket(c);
		expect(refused.status).toBe(429);
		expect(Number(refused.retryAfter)).toBeGreaterThan(0);
	});
});

describe('forwarded headers from a peer that is not a trusted proxy', () => {
	it('are ignored: changing X-Forwarded-For does not get a fresh rate-limit budget', async () => {
		const statuses: number[] = [];
		for (let i = 0; i < 41; i++) {
			const res = await fetch(`${server.url}/api/me`, {
				headers: { 'x-forwarded-for': `203.0.113.${i}` }
			});
			statuses.push(res.status);
		}
		expect(statuses.at(-1)).toBe(429);
	});

	it('cannot claim HTTPS: cookies stay without Secure for a plain-HTTP peer', async () => {
		const c = client();
		const res = await c.post(
			'/register',
			{ email: 'not.https@example.com', displayName: 'x', password: PASSWORD },
			{ 'x-forwarded-proto': 'https' }
		);
		expect(res.status).toBe(303);
		expect(res.headers.getSetCookie().join('\n')).not.toMatch(/secure/i);
	});
});

describe('crafted input gets a 4xx', () => {
	let student: Client;
	beforeAll(async () => {
		student = await register('crafty@example.com');
	});

	it('a prototype key as a Pyodide file name', async () => {
		const { version } = createRequire(import.meta.url)('pyodide/package.json') as {
			version: string;
		};
		expect((await fetch(`${server.url}/pyodide/${version}/pyodide.mjs`)).status).toBe(200);
		for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
			expect((await fetch(`${server.url}/pyodide/${version}/${name}`)).status).toBe(404);
	});

	it('a NUL byte in a query parameter or a route parameter', async () => {
		for (const path of ['/tutor?q=%00', '/practice?topic=a%00b', '/api/me/notebooks?x=%00'])
			expect((await student.fetch(path)).status).toBe(400);
		for (const path of ['/learn/%00/x', '/learn/a%00', '/api/me/notebooks/%00'])
			expect((await student.fetch(path)).status).toBe(404);
		const form = await student.post('/account?/changePassword', {
			currentPassword: 'a\u0000b',
			newPassword: 'x',
			confirmPassword: 'x'
		});
		expect(form.status).toBe(400);
	});

	it('a deeply nested notebook', async () => {
		const deep = '['.repeat(50_000) + ']'.repeat(50_000);
		const body = `{"content":{"nbformat":4,"nbformat_minor":5,"metadata":{"x":${deep}},"cells":[]}}`;
		const res = await student.fetch('/api/me/notebooks/values-and-types', {
			method: 'PUT',
			headers: { 'content-type': 'application/json' },
			body
		});
		expect(res.status).toBe(400);
		expect(((await res.json()) as { message: string }).message).toMatch(/nested/);
	});

	it('a tab or newline in the login ?next= never leaves the site and never fails', async () => {
		await register('next.user@example.com');
		for (const next of ['/\t/evil.example', '/\n/evil.example', '/dash\r\nSet-Cookie: x=1']) {
			const c = client();
			const res = await c.post(`/login?next=${encodeURIComponent(next)}`, {
				email: 'next.user@example.com',
				password: PASSWORD
			});
			expect(res.status).toBe(303);
			expect(res.headers.get('location')).toBe('/dashboard');
		}
	});
});

describe('log out', () => {
	it('ends that session at once, its sockets included, and leaves the other sign-ins alone', async () => {
		await register('leaving@example.com');
		const here = await login('leaving@example.com');
		const elsewhere = await login('leaving@example.com');
		const kept = new Client(server.url);
		kept.cookies = new Map(here.cookies);
		const socket = (await openSocket(here)).ws!;
		const other = (await openSocket(elsewhere)).ws!;
		const socketClosed = closed(socket);
		expect((await here.post('/logout', {})).status).toBe(303);
		expect(await socketClosed).toBe(4401);
		// The access token copied before logging out no longer works, over HTTP or WebSocket.
		kept.cookies.delete('tutor_rt');
		expect((await kept.fetch('/account')).headers.get('location')).toMatch(/^\/login/);
		expect((await openSocket(kept)).status).toBe(401);
		expect((await elsewhere.fetch('/account')).status).toBe(200);
		expect(other.readyState).toBe(WebSocket.OPEN);
		other.close();
	});
});

describe('the first administrator', () => {
	it('is not whoever registers ADMIN_EMAIL first, but the account that enters the logged code', async () => {
		const code = /enter this one-time code: ([\w-]+)/.exec(server.logs())?.[1];
		expect(code).toBeTruthy();
		const squatter = await register(ADMIN);
		const setup = await squatter.fetch('/admin');
		expect(setup.headers.get('location')).toBe('/admin-setup');
		expect((await squatter.post('/admin-setup', { code: 'not-the-code-at-all' })).status).toBe(400);
		const student = await register('not.the.admin@example.com');
		expect((await student.post('/admin-setup', { code: code! })).status).toBe(403);
		const claimed = await squatter.post('/admin-setup', { code: code! });
		expect(claimed.status).toBe(303);
		expect(claimed.headers.get('location')).toBe('/admin');
		expect((await squatter.fetch('/admin')).status).toBe(200);
		// Spent: the log of a restart names no code (tests/integration/accounts.spec.ts tries reuse).
	});

	it('can upload a pack that lies about its sizes and gets a 413 at once', async () => {
		const admin = await login(ADMIN);
		const zip = zipSync({ 'course.yaml': new Uint8Array(12_000_000) }, { level: 9 });
		// Declare 10 bytes in the local and central headers; the data inflates to 12 MB.
		const view = new DataView(zip.buffer);
		for (let i = 0; i + 4 <= zip.length; i++) {
			const sig = view.getUint32(i, true);
			if (sig === 0x04034b50) view.setUint32(i + 22, 10, true);
			if (sig === 0x02014b50) view.setUint32(i + 24, 10, true);
		}
		const form = new FormData();
		form.set('pack', new File([zip], 'pack.zip', { type: 'application/zip' }));
		const res = await admin.fetch('/api/admin/content/import', { method: 'POST', body: form });
		expect(res.status).toBe(413);
	});
});
