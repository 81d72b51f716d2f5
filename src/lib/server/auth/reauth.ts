/**
 * Proof of a fresh sign-in for actions that need one (deleting the account): a short-lived signed
 * cookie, set after the user re-enters the password or signs in again with their provider.
 *
 * @example
 * await markReauthenticated(cookies, config, url, user.id);
 * if (!(await isReauthenticated(cookies, config, user.id))) return fail(401, ...);
 */
import type { Cookies } from '@sveltejs/kit';
import { SignJWT, jwtVerify } from 'jose';
import type { Config } from '#lib/server/config.ts';

export const REAUTH_COOKIE = 'tutor_reauth';
/** How long a fresh sign-in counts as fresh. */
export const REAUTH_SECONDS = 300;

export async function markReauthenticated(
	cookies: Cookies,
	config: Config,
	url: URL,
	userId: string
) {
	const token = await new SignJWT({})
		.setProtectedHeader({ alg: 'HS256' })
		.setSubject(userId)
		.setAudience('reauth')
		.setIssuedAt()
		.setExpirationTime(Math.floor(Date.now() / 1000) + REAUTH_SECONDS)
		.sign(config.jwtSecret);
	const secure = config.cookieSecure === 'auto' ? url.protocol === 'https:' : config.cookieSecure;
	cookies.set(REAUTH_COOKIE, token, {
		path: '/',
		httpOnly: true,
		sameSite: 'strict',
		secure,
		maxAge: REAUTH_SECONDS
	});
}

export async function isReauthenticated(cookies: Cookies, config: Config, userId: string) {
	const token = cookies.get(REAUTH_COOKIE);
	if (!token) return false;
	try {
		const { payload } = await jwtVerify(token, config.jwtSecret, {
			algorithms: ['HS256'],
			audience: 'reauth'
		});
		return payload.sub === userId;
	} catch {
		return false;
	}
}

export function clearReauthenticated(cookies: Cookies) {
	cookies.delete(REAUTH_COOKIE, { path: '/' });
}
