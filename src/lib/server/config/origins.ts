/**
 * The origins allowed to open a WebSocket: ORIGIN plus CORS_ORIGINS, reduced to scheme, host and
 * port. Development with neither set allows the app and Vite's dev server on this machine.
 *
 * @example
 * const { origin, allowedOrigins } = originSettings(env, production, warnings);
 */
import { ConfigError } from './error';
import type { Env } from './env';

export function originSettings(env: Env, production: boolean, warnings: string[]) {
	const origin = env.ORIGIN ? new URL(env.ORIGIN).origin : undefined;
	const allowedOrigins = new Set<string>();
	for (const o of env.CORS_ORIGINS) {
		try {
			allowedOrigins.add(new URL(o).origin);
		} catch {
			throw new ConfigError([`CORS_ORIGINS entry "${o}" is not a URL`]);
		}
	}
	if (origin) allowedOrigins.add(origin);
	if (!production && allowedOrigins.size === 0) {
		// The laptop default: the app itself and Vite's dev server.
		for (const host of ['localhost', '127.0.0.1', '[::1]'])
			for (const port of [env.PORT, 5173]) allowedOrigins.add(`http://${host}:${port}`);
	}
	if (production && allowedOrigins.size === 0)
		warnings.push(
			'neither ORIGIN nor CORS_ORIGINS is set: every WebSocket connection will be refused'
		);
	return { origin, allowedOrigins: [...allowedOrigins] };
}
