import { error, type RequestEvent } from '@sveltejs/kit';
import type { Config } from '#lib/server/config.ts';
import { clientOf } from '#lib/server/http/client.ts';
import * as rateLimit from '#lib/server/rate-limit.ts';

/** The configured provider named in the URL, or 404. */
export function providerFor(config: Config, id: string) {
	const provider = config.sso.find((p) => p.id === id);
	if (!provider) error(404, 'No such sign-in provider.');
	return provider;
}

/**
 * Starts and callbacks per client address, as many as ten accounts' login attempts: each one costs
 * a request to the provider.
 */
export async function tooMany(event: RequestEvent): Promise<Response | null> {
	const { config, database } = event.locals.services;
	const { limit, windowSeconds } = config.loginRateLimit;
	const key = `sso:ip:${clientOf(event).ip ?? 'unknown'}`;
	const r = await rateLimit.hit(database.db, key, { limit: limit * 10, windowSeconds });
	if (r.allowed) return null;
	const minutes = Math.ceil(r.retryAfterSeconds / 60);
	return new Response(`Too many sign-in attempts. Try again in ${minutes} minute(s).`, {
		status: 429,
		headers: { 'retry-after': String(r.retryAfterSeconds), 'content-type': 'text/plain' }
	});
}

/** Back to where the flow started, with a message code the page turns into words. */
export function backWith(intent: string, code: string, provider: string) {
	const page = intent === 'signin' ? '/login' : '/account';
	const location = `${page}?sso=${encodeURIComponent(code)}&provider=${encodeURIComponent(provider)}`;
	return new Response(null, { status: 303, headers: { location } });
}
