/**
 * The SvelteKit handles, composed in hooks.server.ts with `sequence`:
 * request context → authentication → audience guard → security headers.
 */
import type { Handle } from '@sveltejs/kit/hooks';
import * as accounts from '#lib/server/auth/accounts.ts';
import {
	ACCESS_COOKIE,
	REFRESH_COOKIE,
	clearSessionCookies,
	setSessionCookies
} from '#lib/server/auth/cookies.ts';
import { logger, requestContext, requestIdFrom, withRequestContext } from '#lib/server/log.ts';
import { tagRoute } from '#lib/server/metrics.ts';
import { clientOf } from './client';

const THEMES = new Set(['light', 'dark', 'system']);
/** Probes polled every few seconds: no access-log line and no session lookup for them. */
const PROBES = new Set(['/health', '/metrics']);

/** Request id on every log line and in the `x-request-id` header; one access-log line per request. */
export const requestHandle: Handle = ({ event, resolve }) => {
	const requestId = requestIdFrom(event.request.headers.get('x-request-id'));
	event.locals.requestId = requestId;
	event.locals.user = null;
	// The server entry times every request and labels it with this route id.
	if (event.platform) tagRoute(event.platform.req, event.route.id);
	const started = performance.now();
	return withRequestContext({ requestId }, async () => {
		const theme = event.cookies.get('theme');
		const response = await resolve(event, {
			transformPageChunk: ({ html }) =>
				html.replace('%theme%', theme && THEMES.has(theme) ? theme : 'system')
		});
		try {
			response.headers.set('x-request-id', requestId);
		} catch {
			// Immutable headers (a fetched Response passed through): the log line still has the id.
		}
		if (!PROBES.has(event.url.pathname))
			logger().info(
				{
					method: event.request.method,
					path: event.url.pathname,
					status: response.status,
					ms: Math.round(performance.now() - started)
				},
				'request'
			);
		return response;
	});
};

/**
 * A NUL character can reach no stored text (PostgreSQL refuses it): in the path it names nothing
 * (404), in the query it is the client's mistake (400). Refused before any route sees it.
 */
export const inputHandle: Handle = ({ event, resolve }) => {
	const { pathname, search } = event.url;
	const nul = /%00|\0/;
	if (nul.test(pathname)) return Response.json({ message: 'Not found.' }, { status: 404 });
	if (nul.test(search))
		return Response.json(
			{ message: 'The address holds a character that is not allowed.' },
			{ status: 400 }
		);
	return resolve(event);
};

/** Resolves the user from the access cookie, rotating the refresh token when the access token lapsed. */
export const authHandle: Handle = async ({ event, resolve }) => {
	if (PROBES.has(event.url.pathname)) return resolve(event);
	const { config, database } = event.locals.services;
	const deps = { db: database.db, config };
	const access = event.cookies.get(ACCESS_COOKIE);
	let user = access ? await accounts.userFromAccessToken(deps, access) : null;
	if (!user) {
		const refresh = event.cookies.get(REFRESH_COOKIE);
		if (refresh) {
			const outcome = await accounts.rotate(deps, refresh, clientOf(event));
			if (outcome.kind === 'rotated') {
				setSessionCookies(event.cookies, config, event.url, outcome.session);
				user = outcome.session.user;
			} else if (outcome.kind === 'invalid') {
				clearSessionCookies(event.cookies, config, event.url);
			}
		} else if (access) {
			clearSessionCookies(event.cookies, config, event.url);
		}
	}
	event.locals.user = user;
	const ctx = requestContext();
	if (ctx && user) ctx.userId = user.id;
	return resolve(event);
};

/**
 * Guards whole audiences by route group, so pages, form actions and +server.ts endpoints alike are
 * covered: `(app)` and `/api/me` need a user, `/admin` and `/api/admin` need an admin.
 *
 * A signed-in student who opens an admin page gets past this handle on purpose: the admin layout's
 * load answers 403 with the styled error page. Every other kind of request (API calls, form posts)
 * is refused right here. Admin endpoints therefore live under /api/admin, never as +server.ts
 * files below /admin (a test checks this).
 */
export const guardHandle: Handle = async ({ event, resolve }) => {
	const id = event.route.id ?? '';
	const api = id.startsWith('/api/');
	const wantsAdmin = id.startsWith('/admin') || id.startsWith('/api/admin');
	const wantsUser = wantsAdmin || id.startsWith('/(app)') || id.startsWith('/api/me');
	const user = event.locals.user;
	const read = event.request.method === 'GET' || event.request.method === 'HEAD';
	if (wantsUser && !user) {
		if (api || !read) return refuse(401, 'Log in to use this.');
		const next = event.url.pathname + event.url.search;
		return new Response(null, {
			status: 303,
			headers: { location: `/login?next=${encodeURIComponent(next)}` }
		});
	}
	if (wantsAdmin && user?.role !== 'admin' && (api || !read))
		return refuse(403, 'This area is for administrators.');
	return resolve(event);
};

function refuse(status: 401 | 403, message: string) {
	return Response.json({ message }, { status });
}

/** Headers every response carries; the CSP itself comes from SvelteKit's `csp` option (nonces). */
export const securityHeadersHandle: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	const set = (name: string, value: string) => {
		if (!response.headers.has(name)) response.headers.set(name, value);
	};
	try {
		set('x-content-type-options', 'nosniff');
		set('referrer-policy', 'strict-origin-when-cross-origin');
		set('x-frame-options', 'DENY');
		set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
		set('cross-origin-opener-policy', 'same-origin');
		if (event.url.protocol === 'https:')
			set('strict-transport-security', 'max-age=31536000; includeSubDomains');
		if (event.locals.user) set('cache-control', 'private, no-store');
	} catch {
		// Immutable headers: nothing to add.
	}
	return response;
};
