/**
 * Who is asking: the client address (as adapter-node resolves it) and the user agent.
 *
 * @example
 * const { ip, userAgent } = clientOf(event);
 */
import type { RequestEvent } from '@sveltejs/kit';
import type { Client } from '#lib/server/auth/accounts.ts';

// Apart from the form helpers: the audit log and the rate limiter name clients without reading forms.
export function clientOf(event: Pick<RequestEvent, 'getClientAddress' | 'request'>): Client {
	let ip: string | null;
	try {
		ip = event.getClientAddress();
	} catch {
		ip = null;
	}
	return { ip, userAgent: event.request.headers.get('user-agent') };
}
