import type { Db } from './db';
import { auditLog } from './db/schema';

export interface AuditEvent {
	actorId: string | null;
	action: string;
	targetId?: string | null;
	detail?: Record<string, unknown>;
	ip?: string | null;
}

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
