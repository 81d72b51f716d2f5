/**
 * Middleware for WebSocket upgrades: the Origin check and cookie authentication. Both run before
 * the upgrade, so a refused connection gets a plain HTTP 403 or 401 and never a socket.
 */
import { createMiddleware } from 'hono/factory';
import { getCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import type { SessionUser } from '#lib/server/auth/accounts.ts';
import { ACCESS_COOKIE } from '#lib/server/auth/cookies.ts';

export type WsEnv = {
	/** `upgrading`: the request reached the WebSocket handler asking to upgrade (for metrics). */
	Variables: { user: SessionUser; requestId: string; upgrading?: boolean };
};

/**
 * Refuses a request whose Origin header is not one of `allowed()`. Compared with the configured
 * origins only: the request's own Host or URL says nothing about where the page came from.
 *
 * @example
 * app.use('/v1', originGuard({ allowed: () => config.allowedOrigins }));
 */
export function originGuard(options: { allowed: () => readonly string[] }) {
	if (typeof options.allowed !== 'function') throw new Error('originGuard needs allowed()');
	return createMiddleware(async function originGuard(c, next) {
		const origin = c.req.header('origin');
		if (!origin || !options.allowed().includes(origin))
			throw new HTTPException(403, { message: 'origin not allowed' });
		await next();
	});
}

/**
 * Resolves the user from the access-token cookie, or refuses with 401.
 *
 * @example
 * app.use('/v1', cookieAuth({ authenticate: (token) => accounts.userFromAccessToken(deps(), token) }));
 */
export function cookieAuth(options: {
	authenticate: (token: string) => Promise<SessionUser | null>;
}) {
	if (typeof options.authenticate !== 'function')
		throw new Error('cookieAuth needs authenticate()');
	return createMiddleware<WsEnv>(async function cookieAuth(c, next) {
		const token = getCookie(c, ACCESS_COOKIE);
		const user = token ? await options.authenticate(token) : null;
		if (!user) throw new HTTPException(401, { message: 'not signed in' });
		c.set('user', user);
		await next();
	});
}
