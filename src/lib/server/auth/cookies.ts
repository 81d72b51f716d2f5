import type { Cookies } from '@sveltejs/kit';
import type { Config } from '#lib/server/config.ts';
import type { Session } from './accounts';

export const ACCESS_COOKIE = 'tutor_at';
export const REFRESH_COOKIE = 'tutor_rt';

function secure(config: Config, url: URL) {
	return config.cookieSecure === 'auto' ? url.protocol === 'https:' : config.cookieSecure;
}

/** Both tokens in httpOnly, SameSite=Lax cookies; Secure whenever the site is served over HTTPS. */
export function setSessionCookies(cookies: Cookies, config: Config, url: URL, session: Session) {
	const base = { path: '/', httpOnly: true, sameSite: 'lax', secure: secure(config, url) } as const;
	cookies.set(ACCESS_COOKIE, session.accessToken, { ...base, expires: session.accessExpiresAt });
	cookies.set(REFRESH_COOKIE, session.refreshToken, { ...base, expires: session.refreshExpiresAt });
}

export function clearSessionCookies(cookies: Cookies, config: Config, url: URL) {
	const base = { path: '/', httpOnly: true, sameSite: 'lax', secure: secure(config, url) } as const;
	cookies.delete(ACCESS_COOKIE, base);
	cookies.delete(REFRESH_COOKIE, base);
}
