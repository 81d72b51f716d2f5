import { describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT } from 'jose';
import {
	signAccessToken,
	signRefreshToken,
	verifyAccessToken,
	verifyRefreshToken
} from './tokens.ts';

const secret = new TextEncoder().encode('a'.repeat(48));
const other = new TextEncoder().encode('b'.repeat(48));
const userId = '6f1c1d2e-0000-4000-8000-000000000001';

describe('access tokens', () => {
	it('round-trips the user and token version', async () => {
		const token = await signAccessToken(secret, { userId, tokenVersion: 3 }, 60);
		expect(await verifyAccessToken(secret, token)).toEqual({ userId, tokenVersion: 3 });
	});

	it('refuses a tampered payload', async () => {
		const token = await signAccessToken(secret, { userId, tokenVersion: 0 }, 60);
		const [h, p, s] = token.split('.');
		const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
		payload.sub = '6f1c1d2e-0000-4000-8000-000000000002';
		const forged = [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
		expect(await verifyAccessToken(secret, forged)).toBeNull();
	});

	it('refuses a token signed with another key', async () => {
		const token = await signAccessToken(other, { userId, tokenVersion: 0 }, 60);
		expect(await verifyAccessToken(secret, token)).toBeNull();
	});

	it('refuses an expired token', async () => {
		const token = await new SignJWT({ ver: 0 })
			.setProtectedHeader({ alg: 'HS256' })
			.setSubject(userId)
			.setIssuer('ai-coding-tutor')
			.setAudience('access')
			.setIssuedAt(Math.floor(Date.now() / 1000) - 120)
			.setExpirationTime(Math.floor(Date.now() / 1000) - 60)
			.sign(secret);
		expect(await verifyAccessToken(secret, token)).toBeNull();
	});

	it('refuses alg: none', async () => {
		const token = new UnsecuredJWT({ ver: 0 })
			.setSubject(userId)
			.setIssuer('ai-coding-tutor')
			.setAudience('access')
			.setExpirationTime('5m')
			.encode();
		expect(token.split('.')[2]).toBe('');
		expect(await verifyAccessToken(secret, token)).toBeNull();
		// Also with a signature segment glued on.
		expect(await verifyAccessToken(secret, token + 'AAAA')).toBeNull();
	});

	it('refuses another algorithm with the same key (HS512)', async () => {
		const token = await new SignJWT({ ver: 0 })
			.setProtectedHeader({ alg: 'HS512' })
			.setSubject(userId)
			.setIssuer('ai-coding-tutor')
			.setAudience('access')
			.setExpirationTime('5m')
			.sign(secret);
		expect(await verifyAccessToken(secret, token)).toBeNull();
	});

	it('refuses a refresh token presented as an access token, and the reverse', async () => {
		const refresh = await signRefreshToken(secret, {
			userId,
			familyId: crypto.randomUUID(),
			tokenId: crypto.randomUUID(),
			expiresAt: new Date(Date.now() + 60_000)
		});
		const access = await signAccessToken(secret, { userId, tokenVersion: 0 }, 60);
		expect(await verifyAccessToken(secret, refresh)).toBeNull();
		expect(await verifyRefreshToken(secret, access)).toBeNull();
		expect(await verifyRefreshToken(secret, refresh)).toMatchObject({ userId });
	});

	it('refuses garbage', async () => {
		for (const junk of ['', 'abc', 'a.b.c', '.'.repeat(3), 'x'.repeat(5000)])
			expect(await verifyAccessToken(secret, junk)).toBeNull();
	});
});
