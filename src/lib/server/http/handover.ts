/**
 * How the services reach SvelteKit: the server entry (src/serve.ts; in development the Vite plugin in
 * scripts/vite-dev-entry.ts) puts them on each Node request it passes on, and `servicesHandle` moves
 * them to `event.locals.services`, where routes and form actions find them.
 *
 * @example
 * handOver(req, services); // in the entry, before adapter-node's handler(req, res, next)
 * export const handle = sequence(servicesHandle(startOwnServices), authHandle); // hooks.server.ts
 */
import type { IncomingMessage } from 'node:http';
import type { Handle } from '@sveltejs/kit/hooks';
import type { Services } from '#lib/server/services.ts';

// A registered symbol: the entry and SvelteKit are bundled separately, each with its own copy of
// this module, and both must name the same property.
const SERVICES = Symbol.for('ai-coding-tutor.services');
type Carrier = { [SERVICES]?: Services };

/** Gives a request the services, before SvelteKit sees it (as `event.platform.req`). */
export function handOver(req: IncomingMessage, services: Services) {
	(req as Carrier)[SERVICES] = services;
}

/**
 * Sets `event.locals.services`: those handed over with the request, or `own()` for an entry that
 * hands over none (`vite preview`, adapter-node's own build/index.js).
 */
export function servicesHandle(own: () => Promise<Services>): Handle {
	if (typeof own !== 'function') throw new Error('servicesHandle needs own()');
	return async function servicesHandle({ event, resolve }) {
		const req = event.platform?.req as Carrier | undefined;
		event.locals.services = req?.[SERVICES] ?? (await own());
		return resolve(event);
	};
}
