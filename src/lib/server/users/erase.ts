/**
 * Deleting an account with everything it owns: the one transaction behind the admin's "Delete" and
 * a student's own "Delete my account". The schema's cascades remove sessions, identities,
 * conversations and messages, progress, notebooks, practice answers, mock exams, review cards,
 * assessments, levels, budget alerts and the per-user usage rollup. What stays is anonymous: usage
 * rows (user and conversation links set to null), the daily usage rollup, and audit entries (actor
 * set to null by the schema; their address and any email or name in them removed here).
 *
 * @example
 * const r = await erase(db, id);
 * if (!r.ok && r.reason === 'last-admin') return fail(409, ...);
 */
import { eq, like, or, sql } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { auditLog, rateLimits, spendDaily, users } from '#lib/server/db/schema.ts';
import { signedOut } from '#lib/server/ws/sessions.ts';

export type Erased =
	{ ok: true; email: string; displayName: string } | { ok: false; reason: 'gone' | 'last-admin' };

export async function erase(db: Db, id: string): Promise<Erased> {
	const outcome = await db.transaction(async (tx): Promise<Erased> => {
		// Locks the administrators' rows, so two of them deleting themselves at once cannot both pass.
		const admins = await tx
			.select({ id: users.id })
			.from(users)
			.where(eq(users.role, 'admin'))
			.for('update');
		if (admins.length === 1 && admins[0]!.id === id) return { ok: false, reason: 'last-admin' };
		// Rows keyed by the id as text (no foreign key to cascade): the daily spend and rate counters.
		await tx.delete(spendDaily).where(eq(spendDaily.subject, id));
		await tx.delete(rateLimits).where(like(rateLimits.key, `%:user:${id}`));
		await tx
			.update(auditLog)
			.set({ ip: null, detail: sql`${auditLog.detail} - 'email' - 'displayName'` })
			.where(or(eq(auditLog.actorId, id), eq(auditLog.targetId, id)));
		const [deleted] = await tx
			.delete(users)
			.where(eq(users.id, id))
			.returning({ email: users.email, displayName: users.displayName });
		return deleted ? { ok: true, ...deleted } : { ok: false, reason: 'gone' };
	});
	if (outcome.ok) await signedOut(db, id);
	return outcome;
}
