/**
 * Reading the audit log for the admin console: one page of entries, newest first, with who acted
 * and (when the target is an account) whom it concerned.
 *
 * @example
 * const page = await auditLog.list(db, { action: 'user.delete', actor: 'ada@', page: 1 });
 */
import { and, count, desc, eq, ilike, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '#lib/server/db/index.ts';
import { auditLog, users } from '#lib/server/db/schema.ts';

export const PAGE_SIZE = 50;

const actor = alias(users, 'actor');
const target = alias(users, 'target');

/** One page of entries, newest first; `action` is exact, `actor` matches part of an email. */
export async function list(db: Db, options: { action?: string; actor?: string; page: number }) {
	const who = options.actor?.trim();
	const where = and(
		options.action ? eq(auditLog.action, options.action) : undefined,
		who ? ilike(actor.email, `%${who.replace(/[\\%_]/g, (c) => '\\' + c)}%`) : undefined
	);
	const [rows, [total]] = await Promise.all([
		db
			.select({
				id: auditLog.id,
				action: auditLog.action,
				actorId: auditLog.actorId,
				actorEmail: actor.email,
				targetId: auditLog.targetId,
				targetEmail: target.email,
				detail: auditLog.detail,
				ip: auditLog.ip,
				createdAt: auditLog.createdAt
			})
			.from(auditLog)
			.leftJoin(actor, eq(actor.id, auditLog.actorId))
			// Targets are free text (content ids, pack names): compared as text, never cast.
			.leftJoin(target, sql`${target.id}::text = ${auditLog.targetId}`)
			.where(where)
			.orderBy(desc(auditLog.id))
			.limit(PAGE_SIZE)
			.offset((options.page - 1) * PAGE_SIZE),
		who
			? db
					.select({ n: count() })
					.from(auditLog)
					.leftJoin(actor, eq(actor.id, auditLog.actorId))
					.where(where)
			: db.select({ n: count() }).from(auditLog).where(where)
	]);
	return { rows, total: total?.n ?? 0, page: options.page, pageSize: PAGE_SIZE };
}

/** Every action name in the log, for the filter. */
export async function actions(db: Db): Promise<string[]> {
	const rows = await db
		.selectDistinct({ action: auditLog.action })
		.from(auditLog)
		.orderBy(auditLog.action);
	return rows.map((r) => r.action);
}
