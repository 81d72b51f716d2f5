/**
 * The audit log's writing side, for every caller: sign-ins and account changes, admin actions in a
 * request, the content CLI. Reading the log for the console is `admin/audit-log.ts`.
 *
 * @example
 * await audit.record(db, { actorId: null, action: 'content.pack.import', detail: { pack } });
 * await audit.recordAction(db, event, 'user.delete', id, { email });
 */
import type { RequestEvent } from '@sveltejs/kit';
import type { Db } from './db';
import { auditLog } from './db/schema';
import { clientOf } from './http/client';

type ContentKind = 'module' | 'lesson' | 'exercise';

/** Every action the log records; the console filters by these names, so they never change. */
export type AuditAction =
	| `account.${'register' | 'login' | 'logout_everywhere' | 'password_changed' | 'admin_setup'}`
	| 'account.refresh_reuse_detected'
	| `sso.${'link' | 'unlink' | 'refused'}`
	| 'settings.sign_in_policy'
	| `account.${'renamed' | 'exported' | 'deleted'}`
	| `account.${'password_reset_requested' | 'password_reset' | 'email_verified'}`
	| `user.${'role_change' | 'disable' | 'enable' | 'delete' | 'export'}`
	| `cost.${'settings_update' | 'price_set' | 'price_reset'}`
	| 'ai.health_check'
	| `content.${ContentKind}.${'create' | 'update' | 'delete' | 'move' | 'publish' | 'unpublish'}`
	| 'content.exercise.verify'
	| `content.pack.${'import' | 'import_rejected' | 'export'}`
	| `question.${'create' | 'update' | 'delete' | 'import'}`;

export interface AuditEvent {
	actorId: string | null;
	action: AuditAction;
	targetId?: string | null;
	detail?: Record<string, unknown>;
	ip?: string | null;
}

/** What `recordAction` reads from a request: who is signed in and the client's address. */
export type AuditRequest = Pick<RequestEvent, 'locals' | 'getClientAddress' | 'request'>;

/** Appends one entry to the audit log. */
export async function record(db: Db, event: AuditEvent) {
	await db.insert(auditLog).values({
		actorId: event.actorId,
		action: event.action,
		targetId: event.targetId ?? null,
		detail: event.detail ?? {},
		ip: event.ip ?? null
	});
}

/** Appends an entry for an action the signed-in user took in this request, from its address. */
export function recordAction(
	db: Db,
	event: AuditRequest,
	action: AuditAction,
	targetId?: string | null,
	detail?: Record<string, unknown>
) {
	return record(db, {
		actorId: event.locals.user?.id ?? null,
		action,
		targetId: targetId ?? null,
		detail,
		ip: clientOf(event).ip
	});
}
