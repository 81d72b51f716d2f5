/**
 * Request rate limits: every `/api/**` request and every form action (any method but GET and HEAD)
 * counts against a fixed window per user, or per client address when signed out. The counters live
 * in the database, so the limit holds however many replicas serve the requests; a request costs one
 * upsert. Reads and writes have separate limits (API_RATE_LIMIT_READ, API_RATE_LIMIT_WRITE).
 *
 * `/health` is never counted: it is the liveness probe and must answer without the database.
 * `/api/health` (readiness, which pings the database) counts as a read like every other API call; a
 * probe every few seconds stays far below the limit. Static files never reach SvelteKit's hooks.
 *
 * @example
 * export const handle = sequence(requestHandle, authHandle, rateLimitHandle, guardHandle);
 */
import type { RequestEvent } from '@sveltejs/kit';
import type { Handle } from '@sveltejs/kit/hooks';
import { logger } from '#lib/server/log.ts';
import * as metrics from '#lib/server/metrics.ts';
import * as rateLimit from '#lib/server/rate-limit.ts';
import { clientOf } from './client';

export type Bucket = 'read' | 'write';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const isApi = (pathname: string) => pathname === '/api' || pathname.startsWith('/api/');

/** Which limit a request counts against, or null when it is not limited. */
export function bucketOf(method: string, pathname: string): Bucket | null {
	if (pathname === '/health') return null;
	const read = READ_METHODS.has(method.toUpperCase());
	if (isApi(pathname)) return read ? 'read' : 'write';
	return read ? null : 'write';
}

/** The counter a request adds to: the user's when signed in, else the client address's. */
export function keyOf(bucket: Bucket, userId: string | null, ip: string | null | undefined) {
	return `http:${bucket}:${userId ? `user:${userId}` : `ip:${ip ?? 'unknown'}`}`;
}

/** The RateLimit-* headers (IETF httpapi draft): limit, what is left, seconds until the reset. */
export function rateLimitHeaders(
	result: rateLimit.RateLimitResult,
	rule: rateLimit.RateLimitRule
): Record<string, string> {
	return {
		'ratelimit-limit': String(result.limit),
		'ratelimit-remaining': String(result.remaining),
		'ratelimit-reset': String(result.retryAfterSeconds),
		'ratelimit-policy': `${rule.limit};w=${rule.windowSeconds}`
	};
}

/** The sentence a refused request shows. */
export function refusalMessage(retryAfterSeconds: number): string {
	const unit = retryAfterSeconds === 1 ? 'second' : 'seconds';
	return `You are sending requests very fast. Try again in ${retryAfterSeconds} ${unit}.`;
}

/**
 * The 429 in the form the caller understands: JSON with a machine-readable error for the API, an
 * ActionResult for a form posted by `use:enhance` (the page shows it on its error page, the 429
 * one is titled "Slow down a little"), and a small HTML page for a form posted without JavaScript.
 */
function refusal(
	event: RequestEvent,
	result: rateLimit.RateLimitResult,
	headers: Record<string, string>
): Response {
	const { retryAfterSeconds } = result;
	const message = refusalMessage(retryAfterSeconds);
	const init = { status: 429, headers: { ...headers, 'retry-after': String(retryAfterSeconds) } };
	if (isApi(event.url.pathname))
		return Response.json({ error: 'rate_limited', message, retryAfterSeconds }, init);
	const accept = event.request.headers.get('accept') ?? '';
	if (accept.includes('application/json') && !accept.includes('text/html'))
		return Response.json(
			{ type: 'error', error: { message, requestId: event.locals.requestId } },
			init
		);
	return new Response(
		`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Slow down a little</title></head>` +
			`<body><h1>Slow down a little</h1><p>${message}</p></body></html>`,
		{ ...init, headers: { ...init.headers, 'content-type': 'text/html; charset=utf-8' } }
	);
}

/**
 * Counts the request and refuses it with 429 once its window is full; every counted response
 * carries the RateLimit-* headers. Runs after authentication (it needs the user) and before the
 * audience guard, so signed-out calls to guarded endpoints count too.
 */
export const rateLimitHandle: Handle = async ({ event, resolve }) => {
	const { config, database } = event.locals.services;
	if (!config.rateLimits.enabled) return resolve(event);
	const bucket = bucketOf(event.request.method, event.url.pathname);
	if (!bucket) return resolve(event);
	const rule = bucket === 'read' ? config.rateLimits.apiRead : config.rateLimits.apiWrite;
	const key = keyOf(bucket, event.locals.user?.id ?? null, clientOf(event).ip);
	let result: rateLimit.RateLimitResult;
	try {
		result = await rateLimit.hit(database.db, key, rule);
	} catch (err) {
		// A database that cannot count cannot serve the request either: let the route answer with its
		// own error (the readiness probe then reports 503) rather than a misleading 429 or 500.
		logger().warn({ err }, 'rate limit check failed; request let through');
		return resolve(event);
	}
	const headers = rateLimitHeaders(result, rule);
	if (!result.allowed) {
		metrics.recordRateLimited(`http_${bucket}`);
		return refusal(event, result, headers);
	}
	const response = await resolve(event);
	try {
		for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
	} catch {
		// Immutable headers (a fetched Response passed through): the limit still counted.
	}
	return response;
};
