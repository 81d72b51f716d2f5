/**
 * The built server end to end over HTTP and WebSocket: forms, cookies, guards, refresh rotation,
 * WebSocket admission, request ids, headers, logs and shutdown. Runs on PostgreSQL when
 * TEST_DATABASE_URL is set, otherwise on embedded PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { schema } from '../../src/lib/server/db/index.ts';
import {
	ADMIN_SETUP_CODE,
	Client,
	claimAdmin,
	startServer,
	type RunningServer
} from '../helpers/server.ts';
import { TEST_SECRET } from '../helpers/config.ts';

const PASSWORD = 'correct horse battery staple';
const ADMIN = 'head.teacher@example.com';
let server: RunningServer;
const registered: string[] = [];

/** The server trusts x-forwarded-proto (as behind Caddy); this client says it came over plain HTTP. */
const client = () => new Client(server.url, { 'x-forwarded-proto': 'http' });

async function register(email: string, password = PASSWORD) {
	const c = client();
	const res = await c.post('/register', { email, displayName: email.split('@')[0]!, password });
	expect(res.status).toBe(303);
	registered.push(email);
	return c;
}

function wsConnect(headers: Record<string, string>, pathname = '/ws/v1') {
	return new Promise<{ status: number; ws?: WebSocket; first?: unknown }>((resolve, reject) => {
		const ws = new WebSocket(`ws://127.0.0.1:${server.port}${pathname}`, { headers });
		ws.once('unexpected-response', (_req, res) => {
			resolve({ status: res.statusCode ?? 0 });
			ws.terminate();
		});
		ws.once('message', (data) => resolve({ status: 101, ws, first: JSON.parse(String(data)) }));
		ws.once('error', (err) => {
			if (!String(err.message).includes('Unexpected server response')) reject(err);
		});
	});
}

function nextMessage(ws: WebSocket) {
	return new Promise<Record<string, unknown>>((resolve) =>
		ws.once('message', (d) => resolve(JSON.parse(String(d))))
	);
}

beforeAll(async () => {
	server = await startServer({
		postgres: true,
		env: {
			ADMIN_EMAIL: ADMIN,
			ADMIN_SETUP_CODE,
			JWT_SECRET_KEY: TEST_SECRET,
			LOGIN_RATE_LIMIT: '4',
			PROTOCOL_HEADER: 'x-forwarded-proto'
		}
	});
});
afterAll(async () => {
	await server?.stop('SIGKILL');
	await server?.dropDatabase();
});

describe('registration and login forms', () => {
	it('registers, sets httpOnly SameSite cookies and lands on the dashboard', async () => {
		const c = client();
		const res = await c.post('/register', {
			email: 'Ada@Example.com',
			displayName: 'Ada',
			password: PASSWORD
		});
		registered.push('ada@example.com');
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/dashboard');
		const cookies = res.headers.getSetCookie();
		const access = cookies.find((c) => c.startsWith('tutor_at='))!;
		const refresh = cookies.find((c) => c.startsWith('tutor_rt='))!;
		for (const cookie of [access, refresh]) {
			expect(cookie).toMatch(/HttpOnly/i);
			expect(cookie).toMatch(/SameSite=Lax/i);
			expect(cookie).toMatch(/Path=\//i);
			expect(cookie).not.toMatch(/Secure/i);
		}
		const dash = await c.fetch('/dashboard');
		expect(dash.status).toBe(200);
		expect(await dash.text()).toContain('Hello, Ada');
	});

	it('marks cookies Secure behind HTTPS', async () => {
		const c = client();
		const res = await c.post(
			'/register',
			{ email: 'secure@example.com', displayName: 'Sec', password: PASSWORD },
			{ 'x-forwarded-proto': 'https', origin: server.url.replace('http:', 'https:') }
		);
		registered.push('secure@example.com');
		expect(res.status).toBe(303);
		for (const cookie of res.headers.getSetCookie()) expect(cookie).toMatch(/Secure/);
		expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);
	});

	it('logs in and out', async () => {
		const c = client();
		const bad = await c.post('/login', {
			email: 'ada@example.com',
			password: 'wrong password here'
		});
		expect(bad.status).toBe(400);
		expect(await bad.text()).toContain('Email or password is incorrect.');
		const ok = await c.post('/login?next=/account', {
			email: 'ada@example.com',
			password: PASSWORD
		});
		expect(ok.status).toBe(303);
		expect(ok.headers.get('location')).toBe('/account');
		expect((await c.fetch('/account')).status).toBe(200);
		const out = await c.post('/logout', {});
		expect(out.status).toBe(303);
		expect(c.cookies.size).toBe(0);
		expect((await c.fetch('/account')).status).toBe(303);
	});

	it('never redirects to another site after login', async () => {
		const c = client();
		for (const next of ['//evil.example', 'https://evil.example', '/\\evil.example']) {
			const res = await c.post(`/login?next=${encodeURIComponent(next)}`, {
				email: 'ada@example.com',
				password: PASSWORD
			});
			expect(res.headers.get('location')).toBe('/dashboard');
		}
	});

	const cases: [string, Record<string, string>, RegExp][] = [
		['empty', {}, /Enter your email address\./],
		['blank', { email: '  ', displayName: '', password: '' }, /Enter your email address\./],
		[
			'oversized email',
			{ email: 'a'.repeat(10_000) + '@x.io', displayName: 'A', password: PASSWORD },
			/at most 254 characters/
		],
		[
			'oversized name',
			{ email: 'big@example.com', displayName: 'n'.repeat(5000), password: PASSWORD },
			/at most 80 characters/
		],
		[
			'oversized password',
			{ email: 'big@example.com', displayName: 'B', password: 'p'.repeat(100_000) },
			/at most 128 characters/
		],
		[
			'malformed email',
			{ email: 'not-an-email', displayName: 'A', password: PASSWORD },
			/email address like/
		],
		[
			'control characters',
			{ email: 'ctl@example.com', displayName: 'a\u0007b', password: PASSWORD },
			/letters, numbers/
		],
		[
			'short password',
			{ email: 'short@example.com', displayName: 'S', password: 'short' },
			/at least 10 characters/
		]
	];
	it.each(cases)(
		'register with %s input gets a 400 with a readable message',
		async (_name, fields, message) => {
			const res = await client().post('/register', fields);
			expect(res.status).toBe(400);
			expect(await res.text()).toMatch(message);
		}
	);

	it.each([
		['empty', {}, /Enter your email address\./],
		[
			'oversized',
			{ email: 'ada@example.com', password: 'x'.repeat(50_000) },
			/at most 128 characters/
		],
		['malformed', { email: '@@', password: 'x' }, /email address like/]
	] as const)(
		'login with %s input gets a 400 with a readable message',
		async (_n, fields, message) => {
			const res = await client().post('/login', fields as Record<string, string>);
			expect(res.status).toBe(400);
			expect(await res.text()).toMatch(message);
		}
	);

	it('a body that is not a form gets a 4xx, never a 500', async () => {
		const c = client();
		const json = await c.fetch('/register', {
			method: 'POST',
			body: JSON.stringify({ email: 'json@example.com', displayName: 'J', password: PASSWORD }),
			headers: { 'content-type': 'application/json', accept: 'text/html' }
		});
		expect(json.status).toBeGreaterThanOrEqual(400);
		expect(json.status).toBeLessThan(500);
		const broken = await c.fetch('/register', {
			method: 'POST',
			body: '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nbroken',
			headers: { 'content-type': 'multipart/form-data; boundary=x', accept: 'text/html' }
		});
		expect(broken.status).toBe(400);
		const huge = await c.fetch('/register', {
			method: 'POST',
			body: 'email=' + 'a'.repeat(600 * 1024),
			headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }
		});
		expect(huge.status).toBe(413);
		expect(await huge.text()).toMatch(/far larger than it should be/);
	});

	it('a form posted from another origin is refused', async () => {
		const res = await client().post(
			'/register',
			{ email: 'csrf@example.com', displayName: 'C', password: PASSWORD },
			{ origin: 'https://evil.example' }
		);
		expect(res.status).toBe(403);
	});

	it('refuses a duplicate email with a message on the field', async () => {
		const res = await client().post('/register', {
			email: 'ADA@example.com',
			displayName: 'Other Ada',
			password: PASSWORD
		});
		expect(res.status).toBe(409);
		expect(await res.text()).toContain('An account with this email already exists');
	});

	it('rate limits login per account with Retry-After', async () => {
		const c = client();
		const statuses = [];
		let last: Response | undefined;
		for (let i = 0; i < 6; i++) {
			last = await c.post('/login', {
				email: 'victim@example.com',
				password: 'guessing ' + i + 'xxxx'
			});
			statuses.push(last.status);
		}
		expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
		expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
		expect(await last!.text()).toMatch(/Too many attempts/);
	});
});

describe('account page actions', () => {
	it('changes the password with validation, and signs out other sessions', async () => {
		const a = await register('grace@example.com');
		const b = client();
		expect(
			(await b.post('/login', { email: 'grace@example.com', password: PASSWORD })).status
		).toBe(303);

		const empty = await a.post('/account?/changePassword', {});
		expect(empty.status).toBe(400);
		expect(await empty.text()).toMatch(/Enter your password\./);
		const mismatch = await a.post('/account?/changePassword', {
			currentPassword: PASSWORD,
			newPassword: 'brand new password 1',
			confirmPassword: 'brand new password 2'
		});
		expect(mismatch.status).toBe(400);
		expect(await mismatch.text()).toMatch(/do not match/);
		const wrong = await a.post('/account?/changePassword', {
			currentPassword: 'not my password',
			newPassword: 'brand new password 1',
			confirmPassword: 'brand new password 1'
		});
		expect(wrong.status).toBe(400);
		expect(await wrong.text()).toMatch(/current password is not correct/);

		const ok = await a.post('/account?/changePassword', {
			currentPassword: PASSWORD,
			newPassword: 'brand new password 1',
			confirmPassword: 'brand new password 1'
		});
		expect(ok.status).toBe(200);
		expect(await ok.text()).toMatch(/Password changed/);
		expect((await a.fetch('/account')).status).toBe(200);
		expect((await b.fetch('/account')).status).toBe(303);
	});

	it('log out everywhere ends every session', async () => {
		const a = await register('hopper@example.com');
		const b = client();
		await b.post('/login', { email: 'hopper@example.com', password: PASSWORD });
		const res = await a.post('/account?/logoutEverywhere', {});
		expect(res.status).toBe(303);
		expect((await a.fetch('/account')).status).toBe(303);
		expect((await b.fetch('/account')).status).toBe(303);
		expect((await b.fetch('/api/me')).status).toBe(401);
	});

	it('refuses account actions to anonymous visitors', async () => {
		const res = await client().post('/account?/logoutEverywhere', {});
		expect(res.status).toBe(401);
	});
});

describe('session renewal', () => {
	it('renews an expired access token from the refresh token, and reuse of a spent refresh token revokes the family', async () => {
		const c = await register('lovelace@example.com');
		const spent = c.cookies.get('tutor_rt')!;
		c.cookies.delete('tutor_at');
		const renewed = await c.fetch('/api/me');
		expect(renewed.status).toBe(200);
		expect((await renewed.json()).email).toBe('lovelace@example.com');
		expect(c.cookies.get('tutor_rt')).not.toBe(spent);

		// A thief replays the spent token after the grace window: everyone in that family is out.
		await new Promise((r) => setTimeout(r, 10_500));
		const thief = client();
		thief.cookies.set('tutor_rt', spent);
		expect((await thief.fetch('/api/me')).status).toBe(401);
		c.cookies.delete('tutor_at');
		expect((await c.fetch('/api/me')).status).toBe(401);
	});

	it('ignores tampered, foreign and alg:none access cookies', async () => {
		const c = await register('turing@example.com');
		const token = c.cookies.get('tutor_at')!;
		const [h, p] = token.split('.');
		const none =
			Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url') +
			'.' +
			p +
			'.';
		for (const forged of [token.slice(0, -3) + 'abc', none, h + '.' + p + '.']) {
			const x = client();
			x.cookies.set('tutor_at', forged);
			expect((await x.fetch('/api/me')).status).toBe(401);
		}
	});
});

describe('audience guards', () => {
	let student: Client;
	let admin: Client;
	beforeAll(async () => {
		student = await register('student1@example.com');
		admin = await register(ADMIN);
		await claimAdmin(admin);
	});

	const matrix: [string, number, number, number][] = [
		// path, anonymous, student, admin
		['/', 200, 200, 200],
		['/login', 200, 303, 303],
		['/register', 200, 303, 303],
		['/dashboard', 303, 200, 200],
		['/account', 303, 200, 200],
		['/admin', 303, 403, 200],
		['/admin?q=stud&page=1', 303, 403, 200],
		['/api/me', 401, 200, 200],
		['/api/me/export', 401, 200, 200],
		['/forgot-password', 200, 200, 200],
		[`/reset-password?token=${'A'.repeat(43)}`, 200, 200, 200],
		['/reset-password', 400, 400, 400],
		['/verify-email?sent=1', 200, 200, 200],
		['/admin/sign-in', 303, 403, 200],
		// No provider configured on this server.
		['/auth/sso/google', 404, 404, 404],
		['/auth/sso/google/callback', 404, 404, 404],
		['/api/health', 200, 200, 200],
		['/health', 200, 200, 200],
		['/no-such-page', 404, 404, 404]
	];
	it.each(matrix)('%s: anonymous %i, student %i, admin %i', async (path, anon, stud, adm) => {
		expect((await client().fetch(path)).status).toBe(anon);
		expect((await student.fetch(path)).status).toBe(stud);
		expect((await admin.fetch(path)).status).toBe(adm);
	});

	it('sends anonymous visitors to log in and back', async () => {
		const res = await client().fetch('/account?tab=1');
		expect(res.headers.get('location')).toBe('/login?next=%2Faccount%3Ftab%3D1');
	});

	it('the admin page lists users for admins only', async () => {
		const html = await (await admin.fetch('/admin?q=student1')).text();
		expect(html).toContain('student1@example.com');
		const denied = await (await student.fetch('/admin')).text();
		expect(denied).not.toContain('ada@example.com');
		expect(denied).not.toContain(ADMIN);
		expect(denied).toContain('This area is for administrators.');
	});

	it('the account page shows only the signed-in user', async () => {
		const html = await (await student.fetch('/account')).text();
		expect(html).toContain('student1@example.com');
		expect(html).not.toContain(ADMIN);
	});
});

describe('WebSocket admission', () => {
	let student: Client;
	beforeAll(async () => {
		student = await register('wsuser@example.com');
	});

	it('accepts a configured origin with a session and speaks the protocol', async () => {
		const origin = `http://localhost:${server.port}`;
		const { status, ws, first } = await wsConnect({ origin, cookie: student.cookieHeader() });
		expect(status).toBe(101);
		expect(first).toMatchObject({ v: 1, type: 'ready', user: { displayName: 'wsuser' } });
		ws!.send(JSON.stringify({ v: 1, type: 'ping', id: 'p1' }));
		expect(await nextMessage(ws!)).toEqual({ v: 1, type: 'pong', id: 'p1' });
		ws!.send('{not json');
		expect(await nextMessage(ws!)).toMatchObject({ type: 'error', code: 'bad_request' });
		ws!.send(JSON.stringify({ v: 1, type: 'launch-missiles' }));
		expect(await nextMessage(ws!)).toMatchObject({ type: 'error', code: 'bad_request' });
		ws!.send(JSON.stringify({ v: 99, type: 'ping' }));
		expect(await nextMessage(ws!)).toMatchObject({ type: 'error', code: 'unsupported_version' });
		ws!.send(JSON.stringify({ v: 1, type: 'ping', id: 'x'.repeat(70_000) }));
		expect(await nextMessage(ws!)).toMatchObject({ type: 'error', code: 'too_large' });
		ws!.send(Buffer.from([1, 2, 3]), { binary: true });
		expect(await nextMessage(ws!)).toMatchObject({ type: 'error', code: 'bad_request' });
		// Still alive after all that.
		ws!.send(JSON.stringify({ v: 1, type: 'ping' }));
		expect(await nextMessage(ws!)).toMatchObject({ type: 'pong' });
		ws!.close();
	});

	it('refuses a foreign origin, even one that matches the Host header', async () => {
		expect(
			(await wsConnect({ origin: 'https://evil.example', cookie: student.cookieHeader() })).status
		).toBe(403);
		expect(
			(
				await wsConnect({
					origin: 'http://evil.example',
					host: 'evil.example',
					cookie: student.cookieHeader()
				})
			).status
		).toBe(403);
		expect((await wsConnect({ cookie: student.cookieHeader() })).status).toBe(403);
	});

	it('refuses a connection without a valid session', async () => {
		const origin = `http://localhost:${server.port}`;
		expect((await wsConnect({ origin })).status).toBe(401);
		expect((await wsConnect({ origin, cookie: 'tutor_at=forged.token.value' })).status).toBe(401);
	});

	it('answers 404 for upgrades outside /ws/v1', async () => {
		const origin = `http://localhost:${server.port}`;
		expect((await wsConnect({ origin, cookie: student.cookieHeader() }, '/ws/nope')).status).toBe(
			404
		);
		expect((await wsConnect({ origin, cookie: student.cookieHeader() }, '/dashboard')).status).toBe(
			404
		);
	});

	it('answers 400 at once, and closes, for an upgrade to another protocol', async () => {
		const started = performance.now();
		const reply = await new Promise<string>((resolve, reject) => {
			const socket = connect(server.port, '127.0.0.1', () =>
				socket.write(
					'GET /ws/v1 HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n'
				)
			);
			let text = '';
			socket.on('data', (d) => (text += d));
			socket.on('end', () => resolve(text));
			socket.on('error', reject);
			socket.setTimeout(3000, () => reject(new Error('no answer: the socket was left open')));
		});
		expect(reply).toMatch(/^HTTP\/1\.1 400 /);
		expect(reply).toContain('Only WebSocket upgrades');
		expect(performance.now() - started).toBeLessThan(2000);
	});
});

describe('operations', () => {
	it('health endpoints', async () => {
		const live = await fetch(server.url + '/health');
		expect(await live.json()).toMatchObject({ status: 'ok' });
		const ready = await fetch(server.url + '/api/health');
		expect(ready.status).toBe(200);
		expect(await ready.json()).toMatchObject({ status: 'ok', database: { ok: true } });
	});

	it('every response carries a request id, and a well-formed incoming one is kept', async () => {
		const res = await fetch(server.url + '/');
		expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
		const mine = await fetch(server.url + '/login', {
			headers: { 'x-request-id': 'trace-abc-12345' }
		});
		expect(mine.headers.get('x-request-id')).toBe('trace-abc-12345');
		const evil = await fetch(server.url + '/login', {
			headers: { 'x-request-id': 'bad id\twith spaces' }
		});
		expect(evil.headers.get('x-request-id')).not.toContain('bad id');
		await new Promise((r) => setTimeout(r, 100));
		expect(server.logs()).toContain('"reqId":"trace-abc-12345"');
	});

	it('pages carry security headers and a CSP', async () => {
		const res = await fetch(server.url + '/login');
		expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
		expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
		expect(res.headers.get('x-content-type-options')).toBe('nosniff');
		expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
		expect(res.headers.get('x-frame-options')).toBe('DENY');
	});

	it('logs are JSON lines and never contain a password, token or the signing secret', async () => {
		const lines = server.logs().trim().split('\n');
		for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
		const text = server.logs();
		for (const secret of [PASSWORD, 'brand new password 1', TEST_SECRET, 'wrong password here'])
			expect(text).not.toContain(secret);
		expect(text).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/); // no JWT of any kind
	});

	it('nothing the refused forms sent was written: only the accounts that registered exist', async () => {
		const code = await server.stop('SIGTERM');
		expect(code).toBe(0);
		const database = await openDatabase(
			server.databaseUrl ? { url: server.databaseUrl } : { dataDir: server.dataDir }
		);
		try {
			const rows = await database.db.select({ email: schema.users.email }).from(schema.users);
			expect(rows.map((r) => r.email).sort()).toEqual([...new Set(registered)].sort());
		} finally {
			await database.close();
		}
	});
});
