import type { RequestEvent } from '@sveltejs/kit';
import { record } from '../audit';
import { clientOf } from '../http/forms';
import { runtime } from '../runtime';

/** Writes an audit entry for an admin action taken in this request. */
export function audit(
	event: Pick<RequestEvent, 'locals' | 'getClientAddress' | 'request'>,
	action: string,
	targetId?: string | null,
	detail?: Record<string, unknown>
) {
	return record(runtime().database.db, {
		actorId: event.locals.user?.id ?? null,
		action,
		targetId: targetId ?? null,
		detail,
		ip: clientOf(event as RequestEvent).ip
	});
}
