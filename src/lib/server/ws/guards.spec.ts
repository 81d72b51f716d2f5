import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { cookieAuth, originGuard, type WsEnv } from './guards.ts';

function app() {
	const a = new Hono<WsEnv>();
	a.use(originGuard({ allowed: () => ['https://tutor.example.com'] }));
	a.use(
		cookieAuth({
			authenticate: async (token) =>
				token === 'good'
					? { id: 'u1', email: 'a@b.c', displayName: 'A', role: 'student', createdAt: new Date() }
					: null
		})
	);
	a.get('/v1', (c) => c.text(`hello ${c.get('user').id}`));
	a.onError((err, c) =>
		err instanceof HTTPException ? c.text(err.message, err.status) : c.text('boom', 500)
	);
	return a;
}

describe('originGuard', () => {
	it('admits a configured origin', async () => {
		const res = await app().request('/v1', {
			headers: { origin: 'https://tutor.example.com', cookie: 'tutor_at=good' }
		});
		expect(res.status).toBe(200);
		expect(await res.text()).toBe('hello u1');
	});

	it('refuses a missing or foreign origin', async () => {
		for (const origin of [
			undefined,
			'https://evil.example',
			'null',
			'https://tutor.example.com.evil.example'
		]) {
			const headers: Record<string, string> = { cookie: 'tutor_at=good' };
			if (origin) headers.origin = origin;
			const res = await app().request('/v1', { headers });
			expect(res.status).toBe(403);
		}
	});

	it('does not trust the request Host: an origin matching Host but not the configuration is refused', async () => {
		const res = await app().request('http://evil.example/v1', {
			headers: { origin: 'http://evil.example', host: 'evil.example', cookie: 'tutor_at=good' }
		});
		expect(res.status).toBe(403);
	});

	it('checks its options when created', () => {
		expect(() => originGuard({} as never)).toThrow(/allowed/);
		expect(() => cookieAuth({} as never)).toThrow(/authenticate/);
	});
});

describe('cookieAuth', () => {
	it('refuses a missing or invalid session with 401', async () => {
		const origin = 'https://tutor.example.com';
		expect((await app().request('/v1', { headers: { origin } })).status).toBe(401);
		expect(
			(await app().request('/v1', { headers: { origin, cookie: 'tutor_at=forged' } })).status
		).toBe(401);
	});
});
