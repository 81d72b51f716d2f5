/**
 * The protocol side of single sign-on, through openid-client: the authorization URL (PKCE, state,
 * nonce) and the callback (code exchange, ID token validated for issuer, audience, signature,
 * expiry and nonce). GitHub speaks plain OAuth 2: its user and verified emails come from its API.
 *
 * @example
 * const { url, flow } = await sso.begin(provider, redirectUri, { intent: 'signin', next: '/dashboard' });
 * const profile = await sso.complete(provider, new URL(request.url), flow); // throws SsoError
 */
import * as client from 'openid-client';
import type { SsoProvider } from '#lib/server/config.ts';

/** What the browser carries between the redirect and the callback, in a signed cookie. */
export interface Flow {
	provider: string;
	intent: 'signin' | 'link' | 'reauth';
	next: string;
	state: string;
	nonce: string;
	verifier: string;
	redirectUri: string;
	/** For link and reauth: the signed-in user who started it. */
	userId?: string;
}

export interface Profile {
	subject: string;
	email: string | null;
	emailVerified: boolean;
	name: string | null;
}

/** A refusal the user can be told about; `code` picks the message shown on the login page. */
export class SsoError extends Error {
	constructor(
		readonly code: 'failed' | 'unavailable',
		message: string
	) {
		super(message);
	}
}

/** A fresh sign-in for re-authentication: at most this old, in seconds. */
export const REAUTH_MAX_AGE = 300;

const configurations = new Map<string, Promise<client.Configuration>>();

function loopback(url: string) {
	const { protocol, hostname } = new URL(url);
	return protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
}

function githubApi(p: SsoProvider) {
	const web = p.issuer.replace(/\/+$/, '');
	return web === 'https://github.com' ? 'https://api.github.com' : `${web}/api/v3`;
}

async function discover(p: SsoProvider): Promise<client.Configuration> {
	// Plain HTTP only for a provider on this machine (development and tests).
	const insecure = loopback(p.issuer) ? { execute: [client.allowInsecureRequests] } : undefined;
	if (p.kind === 'oidc') {
		const config = await client.discovery(
			new URL(p.issuer),
			p.clientId,
			p.clientSecret,
			undefined,
			insecure
		);
		// The spec lets TLS stand in for the ID token's signature; check it against the JWKS anyway.
		client.enableNonRepudiationChecks(config);
		return config;
	}
	const web = p.issuer.replace(/\/+$/, '');
	const config = new client.Configuration(
		{
			issuer: web,
			authorization_endpoint: `${web}/login/oauth/authorize`,
			token_endpoint: `${web}/login/oauth/access_token`
		},
		p.clientId,
		p.clientSecret
	);
	if (insecure) client.allowInsecureRequests(config);
	return config;
}

/** The provider's configuration, discovered once per process; a failed discovery is retried next time. */
function configuration(p: SsoProvider) {
	let found = configurations.get(p.id);
	if (!found) {
		found = discover(p).catch((error: unknown) => {
			configurations.delete(p.id);
			throw new SsoError('unavailable', `discovery failed: ${(error as Error).message}`);
		});
		configurations.set(p.id, found);
	}
	return found;
}

export async function begin(
	p: SsoProvider,
	redirectUri: string,
	options: Pick<Flow, 'intent' | 'next' | 'userId'>
): Promise<{ url: URL; flow: Flow }> {
	const config = await configuration(p);
	const flow: Flow = {
		provider: p.id,
		...options,
		state: client.randomState(),
		nonce: client.randomNonce(),
		verifier: client.randomPKCECodeVerifier(),
		redirectUri
	};
	const params: Record<string, string> = {
		redirect_uri: redirectUri,
		scope: p.kind === 'github' ? 'read:user user:email' : 'openid email profile',
		state: flow.state,
		code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
		code_challenge_method: 'S256'
	};
	if (p.kind === 'oidc') params.nonce = flow.nonce;
	if (flow.intent === 'reauth') {
		params.prompt = 'login';
		if (p.kind === 'oidc') params.max_age = String(REAUTH_MAX_AGE);
	}
	return { url: client.buildAuthorizationUrl(config, params), flow };
}

/** The callback as the provider sent it, on the redirect URI the flow began with (proxies aside). */
function callbackOn(flow: Flow, received: URL) {
	const url = new URL(flow.redirectUri);
	url.search = received.search;
	return url;
}

export async function complete(p: SsoProvider, received: URL, flow: Flow): Promise<Profile> {
	const config = await configuration(p);
	const callbackUrl = callbackOn(flow, received);
	try {
		if (p.kind === 'github') return await completeGithub(p, config, callbackUrl, flow);
		const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
			pkceCodeVerifier: flow.verifier,
			expectedState: flow.state,
			expectedNonce: flow.nonce,
			idTokenExpected: true,
			...(flow.intent === 'reauth' ? { maxAge: REAUTH_MAX_AGE } : {})
		});
		let claims: Record<string, unknown> = { ...tokens.claims()! };
		if (typeof claims.email !== 'string' && config.serverMetadata().userinfo_endpoint)
			claims = {
				...claims,
				...(await client.fetchUserInfo(config, tokens.access_token, String(claims.sub)))
			};
		const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : null;
		return {
			subject: String(claims.sub),
			email,
			emailVerified: Boolean(email) && (claims.email_verified === true || p.trustEmail),
			name: typeof claims.name === 'string' ? claims.name : null
		};
	} catch (error) {
		if (error instanceof SsoError) throw error;
		throw new SsoError('failed', (error as Error).message);
	}
}

async function completeGithub(
	p: SsoProvider,
	config: client.Configuration,
	callbackUrl: URL,
	flow: Flow
): Promise<Profile> {
	const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
		pkceCodeVerifier: flow.verifier,
		expectedState: flow.state
	});
	const get = async (path: string) => {
		const res = await fetch(`${githubApi(p)}${path}`, {
			headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json' },
			signal: AbortSignal.timeout(10_000)
		});
		if (!res.ok) throw new SsoError('failed', `GitHub ${path} answered ${res.status}`);
		return res.json();
	};
	const [user, emails] = (await Promise.all([get('/user'), get('/user/emails')])) as [
		{ id: number; login: string; name: string | null },
		{ email: string; primary: boolean; verified: boolean }[]
	];
	const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified);
	return {
		subject: String(user.id),
		email: primary?.email.toLowerCase() ?? null,
		emailVerified: Boolean(primary),
		name: user.name || user.login
	};
}
