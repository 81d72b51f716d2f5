/**
 * Reading the audit log for the admin console: one page of entries, newest first, with who acted
 * and (when the target is an account) whom it concerned.
 *
 * @example
 * const page = await auditLog.list(db, { action: 'user.delete', actor: 'ada@', page: 1 });
 */
import { and, desc, eq, ilike, inArray, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { rowsOf, type Db } from '#lib/server/db/index.ts';
import { auditLog, users } from '#lib/server/db/schema.ts';
import { countUpTo } from './count';

export { COUNT_CAP } from './count';

export const PAGE_SIZE = 50;

const actor = alias(users, 'actor');
const target = alias(users, 'target');

/** One page of entries, newest first; `action` is exact, `actor` matches part of an email. */
export async function list(db: Db, options: { action?: string; actor?: string; page: number }) {
	const who = options.actor?.trim();
	const where = and(
		options.action ? eq(auditLog.action, options.action) : undefined,
		// The matching accounts first, then their entries through the actor index.
		who
			? inArray(
					auditLog.actorId,
					db
						.select({ id: users.id })
						.from(users)
						.where(ilike(users.email, `%${who.replace(/[\\%_]/g, (c) => '\\' + c)}%`))
				)
			: undefined
	);
	const [rows, counted] = await Promise.all([
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
			// Targets are free text (content ids, pack names); one that is a uuid finds its account by key.
			.leftJoin(
				target,
				sql`${target.id} = case when ${auditLog.targetId} ~ ${UUID} then ${auditLog.targetId}::uuid end`
			)
			.where(where)
			.orderBy(desc(auditLog.id))
			.limit(PAGE_SIZE)
			.offset((options.page - 1) * PAGE_SIZE),
		countUpTo(db, auditLog, where)
	]);
	return { rows, ...counted, page: options.page, pageSize: PAGE_SIZE };
}

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** Every action name in the log, for the filter: a loose index scan, one index probe per name. */
export async function actions(db: Db): Promise<string[]> {
	const result = await db.execute(sql`
		with recursive a(action) as (
			(select action from audit_log order by action limit 1)
			union all
			select (select l.action from audit_log l where l.action > a.action order by l.action limit 1)
			from a where a.action is not null
		)
		select action from a where action is not null`);
	return rowsOf<{ action: string }>(result).map((r) => r.action);
}
