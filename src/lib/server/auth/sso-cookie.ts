/**
 * The single sign-on flow (state, nonce, PKCE verifier, where to go next) kept in the browser between
 * the redirect to the provider and its callback: a signed, httpOnly cookie, spent on first read.
 *
 * @example
 * await saveFlow(cookies, config, url, flow);
 * const flow = await takeFlow(cookies, config, url); // null when missing, tampered or older than 10 min
 */
import type { Cookies } from '@sveltejs/kit';
import { SignJWT, jwtVerify } from 'jose';
import type { Config } from '#lib/server/config.ts';
import type { Flow } from './sso';

const COOKIE = 'tutor_sso';
const TTL_SECONDS = 600;

function options(config: Config, url: URL) {
	const secure = config.cookieSecure === 'auto' ? url.protocol === 'https:' : config.cookieSecure;
	// Lax: the provider's redirect back is a top-level GET from another site.
	return { path: '/auth/sso', httpOnly: true, sameSite: 'lax', secure } as const;
}

export async function saveFlow(cookies: Cookies, config: Config, url: URL, flow: Flow) {
	const token = await new SignJWT({ flow })
		.setProtectedHeader({ alg: 'HS256' })
		.setAudience('sso-flow')
		.setIssuedAt()
		.setExpirationTime(Math.floor(Date.now() / 1000) + TTL_SECONDS)
		.sign(config.jwtSecret);
	cookies.set(COOKIE, token, { ...options(config, url), maxAge: TTL_SECONDS });
}

export async function takeFlow(cookies: Cookies, config: Config, url: URL): Promise<Flow | null> {
	const token = cookies.get(COOKIE);
	if (!token) return null;
	cookies.delete(COOKIE, options(config, url));
	try {
		const { payload } = await jwtVerify(token, config.jwtSecret, {
			algorithms: ['HS256'],
			audience: 'sso-flow'
		});
		return (payload.flow as Flow) ?? null;
	} catch {
		return null;
	}
}
