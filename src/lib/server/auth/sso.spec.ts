import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SsoProvider } from '#lib/server/config.ts';
import * as sso from './sso';

// A hand-made provider whose tokens each test shapes, to check what the callback accepts.
let server: Server;
let issuer: string;
let mintIdToken: (nonce: string) => Promise<string | undefined>;
let githubEmails: { email: string; primary: boolean; verified: boolean }[] = [];
let lastTokenRequest: URLSearchParams | undefined;
const keys = await generateKeyPair('RS256');
const strangerKeys = await generateKeyPair('RS256');
let nonceSeen = '';

function sign(claims: JWTPayload, key = keys.privateKey, alg = 'RS256') {
	return new SignJWT(claims)
		.setProtectedHeader({ alg, kid: 'k1' })
		.setIssuedAt()
		.setExpirationTime('5m')
		.sign(key);
}
const good = (nonce: string): JWTPayload => ({
	iss: issuer,
	aud: 'tutor',
	sub: 'user-1',
	nonce,
	email: 'Ada@School.edu',
	email_verified: true,
	name: 'Ada'
});

beforeAll(async () => {
	const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
	server = createServer(async (req, res) => {
		const url = new URL(req.url!, issuer);
		const json = (body: unknown) => {
			res.setHeader('content-type', 'application/json');
			res.end(JSON.stringify(body));
		};
		let body = '';
		for await (const chunk of req) body += chunk;
		if (url.pathname === '/.well-known/openid-configuration')
			return json({
				issuer,
				authorization_endpoint: `${issuer}/authorize`,
				token_endpoint: `${issuer}/token`,
				jwks_uri: `${issuer}/jwks`,
				response_types_supported: ['code'],
				subject_types_supported: ['public'],
				id_token_signing_alg_values_supported: ['RS256']
			});
		if (url.pathname === '/jwks') return json({ keys: [jwk] });
		if (url.pathname === '/token' || url.pathname === '/login/oauth/access_token') {
			lastTokenRequest = new URLSearchParams(body);
			const idToken = url.pathname === '/token' ? await mintIdToken(nonceSeen) : undefined;
			return json({
				access_token: 'at-1',
				token_type: 'Bearer',
				expires_in: 300,
				id_token: idToken
			});
		}
		if (url.pathname === '/api/v3/user') return json({ id: 42, login: 'octo', name: null });
		if (url.pathname === '/api/v3/user/emails') return json(githubEmails);
		res.statusCode = 404;
		res.end();
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let n = 0;
function provider(overrides: Partial<SsoProvider> = {}): SsoProvider {
	// A fresh id per test: configurations are cached per provider id.
	return {
		id: `p${++n}`,
		name: 'School',
		kind: 'oidc',
		issuer,
		clientId: 'tutor',
		clientSecret: 'secret',
		trustEmail: false,
		...overrides
	};
}

async function roundTrip(p: SsoProvider, mint: typeof mintIdToken, state?: string) {
	const { url, flow } = await sso.begin(p, 'http://app.test/auth/sso/x/callback', {
		intent: 'signin',
		next: '/dashboard'
	});
	nonceSeen = url.searchParams.get('nonce') ?? '';
	mintIdToken = mint;
	const back = new URL('http://app.test/auth/sso/x/callback');
	back.searchParams.set('code', 'code-1');
	back.searchParams.set('state', state ?? url.searchParams.get('state')!);
	return { url, flow, complete: () => sso.complete(p, back, flow) };
}

describe('single sign-on callback checks (openid-client)', () => {
	it('asks with PKCE (S256), state and nonce, and accepts a well-formed ID token', async () => {
		const { url, flow, complete } = await roundTrip(provider(), (nonce) => sign(good(nonce)));
		expect(url.searchParams.get('code_challenge_method')).toBe('S256');
		expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
		expect(url.searchParams.get('state')).toBe(flow.state);
		expect(url.searchParams.get('scope')).toBe('openid email profile');
		const profile = await complete();
		expect(profile).toEqual({
			subject: 'user-1',
			email: 'ada@school.edu',
			emailVerified: true,
			name: 'Ada'
		});
		expect(lastTokenRequest?.get('code_verifier')).toBe(flow.verifier);
	});

	const attacks: [string, (nonce: string) => Promise<string | undefined>][] = [
		['a wrong nonce', () => sign(good('another-nonce'))],
		['a token for another client', (nonce) => sign({ ...good(nonce), aud: 'someone-else' })],
		[
			'a token from another issuer',
			(nonce) => sign({ ...good(nonce), iss: 'https://evil.example' })
		],
		['a token signed with another key', (nonce) => sign(good(nonce), strangerKeys.privateKey)],
		[
			'an expired token',
			(nonce) =>
				new SignJWT({ ...good(nonce), iat: 1_000, exp: 2_000 })
					.setProtectedHeader({ alg: 'RS256', kid: 'k1' })
					.sign(keys.privateKey)
		],
		[
			'an unsigned (alg: none) token',
			async (nonce) =>
				`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...good(nonce), exp: 9e9, iat: 1 })).toString('base64url')}.`
		],
		['no ID token at all', async () => undefined]
	];
	it.each(attacks)('refuses %s', async (_name, mint) => {
		const { complete } = await roundTrip(provider(), mint);
		await expect(complete()).rejects.toMatchObject({ code: 'failed' });
	});

	it('refuses a callback whose state is not the one this browser started', async () => {
		const { complete } = await roundTrip(provider(), (nonce) => sign(good(nonce)), 'forged');
		await expect(complete()).rejects.toBeInstanceOf(sso.SsoError);
	});

	it('takes an email as verified only when the provider says so, or is trusted for it', async () => {
		const unverified = (nonce: string) => sign({ ...good(nonce), email_verified: false });
		expect((await (await roundTrip(provider(), unverified)).complete()).emailVerified).toBe(false);
		const trusted = provider({ trustEmail: true });
		expect((await (await roundTrip(trusted, unverified)).complete()).emailVerified).toBe(true);
	});

	it('reports an unreachable provider as unavailable and tries discovery again next time', async () => {
		const p = provider({ issuer: 'http://127.0.0.1:9' });
		await expect(
			sso.begin(p, 'http://app.test/cb', { intent: 'signin', next: '/' })
		).rejects.toMatchObject({ code: 'unavailable' });
		p.issuer = issuer;
		await expect(
			sso.begin(p, 'http://app.test/cb', { intent: 'signin', next: '/' })
		).resolves.toBeTruthy();
	});

	it('GitHub: signs in with the primary verified email from its API, never an unverified one', async () => {
		const github = provider({ kind: 'github' });
		githubEmails = [
			{ email: 'old@example.com', primary: false, verified: true },
			{ email: 'Octo@Example.com', primary: true, verified: true }
		];
		const first = await roundTrip(github, async () => undefined);
		expect(first.url.pathname).toBe('/login/oauth/authorize');
		expect(first.url.searchParams.has('nonce')).toBe(false);
		expect(await first.complete()).toEqual({
			subject: '42',
			email: 'octo@example.com',
			emailVerified: true,
			name: 'octo'
		});
		githubEmails = [{ email: 'new@example.com', primary: true, verified: false }];
		const second = await (await roundTrip(github, async () => undefined)).complete();
		expect(second).toMatchObject({ email: null, emailVerified: false });
	});
});
