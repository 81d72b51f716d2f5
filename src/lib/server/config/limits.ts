/**
 * Request limits: the per-route API and WebSocket limits, and the tutor's limit with its older
 * alias names.
 *
 * @example
 * const tutorLimit = tutorRateLimit(env, warnings); // { limit: 30, windowSeconds: 60 } by default
 */
import type { Env } from './env';
import type { Config } from './types';

/** Counts never reach this, and it still fits the counter's integer column in comparisons. */
export const UNLIMITED = 2_147_483_647;

/**
 * The tutor's limit: RATE_LIMIT_MAX per RATE_LIMIT_WINDOW (milliseconds, rounded up to whole
 * seconds), else the older TUTOR_RATE_LIMIT and TUTOR_RATE_WINDOW_SECONDS, else 30 per minute.
 * RATE_LIMIT_ENABLED=false lifts it: the engine checks it inside its own statement, so the limit is
 * set out of reach rather than skipped.
 */
export function tutorRateLimit(env: Env, warnings: string[]) {
	for (const [name, alias] of [
		['RATE_LIMIT_MAX', 'TUTOR_RATE_LIMIT'],
		['RATE_LIMIT_WINDOW', 'TUTOR_RATE_WINDOW_SECONDS']
	] as const)
		if (env[name] !== undefined && env[alias] !== undefined)
			warnings.push(`${name} and ${alias} are both set; using ${name}`);
	const windowMs =
		env.RATE_LIMIT_WINDOW ??
		(env.TUTOR_RATE_WINDOW_SECONDS !== undefined ? env.TUTOR_RATE_WINDOW_SECONDS * 1000 : 60_000);
	return {
		limit: env.RATE_LIMIT_ENABLED ? (env.RATE_LIMIT_MAX ?? env.TUTOR_RATE_LIMIT ?? 30) : UNLIMITED,
		windowSeconds: Math.ceil(windowMs / 1000)
	};
}

export function rateLimitSettings(env: Env): Config['rateLimits'] {
	return {
		enabled: env.RATE_LIMIT_ENABLED,
		apiRead: { limit: env.API_RATE_LIMIT_READ, windowSeconds: env.API_RATE_LIMIT_WINDOW_SECONDS },
		apiWrite: {
			limit: env.API_RATE_LIMIT_WRITE,
			windowSeconds: env.API_RATE_LIMIT_WINDOW_SECONDS
		},
		ws: {
			connect: {
				limit: env.WS_RATE_LIMIT_CONNECT,
				windowSeconds: env.WS_RATE_LIMIT_WINDOW_SECONDS
			},
			subscribe: {
				limit: env.WS_RATE_LIMIT_SUBSCRIBE,
				windowSeconds: env.WS_RATE_LIMIT_WINDOW_SECONDS
			},
			unsubscribe: {
				limit: env.WS_RATE_LIMIT_UNSUBSCRIBE,
				windowSeconds: env.WS_RATE_LIMIT_WINDOW_SECONDS
			},
			stop: { limit: env.WS_RATE_LIMIT_STOP, windowSeconds: env.WS_RATE_LIMIT_WINDOW_SECONDS }
		}
	};
}
