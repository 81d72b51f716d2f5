/**
 * Per-user limits on WebSocket messages, counted in the database so they hold across replicas.
 *
 * - `send`, `continue`, `regenerate`: counted by the tutor engine inside the statement that starts
 *   the answer (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW), so they are not counted again here.
 * - `subscribe`, `unsubscribe`, `stop`: counted here, one upsert each (WS_RATE_LIMIT_*).
 * - `connect`: opening a socket, counted before the upgrade (WS_RATE_LIMIT_CONNECT), beside the
 *   cap on sockets open at once per user on a replica (WS_MAX_SOCKETS_PER_USER).
 * - `ping`: only the per-user frame limit (WS_MAX_MESSAGES_PER_SECOND). A pong touches neither
 *   the database nor a provider, so a database write per ping would cost more than the ping itself;
 *   the frame limit already bounds what one user can send, and opening sockets needs a session.
 *
 * @example
 * const refused = await messageLimit(db, config, user.id, 'subscribe');
 * if (refused) return reply(refused, message.conversationId);
 */
import type { Config } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import * as metrics from '#lib/server/metrics.ts';
import * as rateLimit from '#lib/server/rate-limit.ts';
import type { Failure } from '#lib/server/tutor/engine.ts';

export type CountedMessage = keyof Config['rateLimits']['ws'];

const WHAT: Record<CountedMessage, string> = {
	connect: 'You are opening connections very fast.',
	subscribe: 'You are opening conversations very fast.',
	unsubscribe: 'You are leaving conversations very fast.',
	stop: 'You are pressing Stop very fast.'
};

/** Counts one message of `type` for the user; a Failure (code `rate_limited`) once over the limit. */
export async function messageLimit(
	db: Db,
	config: Config,
	userId: string,
	type: CountedMessage
): Promise<Failure | null> {
	if (!config.rateLimits.enabled) return null;
	const r = await rateLimit.hit(db, `ws:${type}:user:${userId}`, config.rateLimits.ws[type]);
	if (r.allowed) return null;
	metrics.recordRateLimited(`ws_${type}`);
	const unit = r.retryAfterSeconds === 1 ? 'second' : 'seconds';
	return {
		ok: false,
		code: 'rate_limited',
		message: `${WHAT[type]} Try again in ${r.retryAfterSeconds} ${unit}.`,
		retryAfterSeconds: r.retryAfterSeconds
	};
}
