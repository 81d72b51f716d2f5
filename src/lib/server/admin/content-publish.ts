/**
 * Publishing content and verifying exercises. A module or lesson is published only once every
 * exercise in it has checks verified for its current solution, so students never meet a broken one.
 *
 * @example
 * const result = await setStatus(db, 'lesson', id, 'published');
 * if (!result.ok) console.log(result.message, result.unverified);
 */
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { exercises, lessons, modules, type ContentStatus } from '#lib/server/db/schema.ts';
import { checksHash, verification } from '#lib/server/learn/verification.ts';

/** Why a save that asks for `wanted` may not publish (checked before anything is written). */
export async function publishRefusal(
	db: Db,
	kind: 'module' | 'lesson',
	id: string,
	wanted: ContentStatus
) {
	if (wanted !== 'published') return null;
	const table = kind === 'module' ? modules : lessons;
	const [row] = await db.select({ status: table.status }).from(table).where(eq(table.id, id));
	if (!row || row.status === 'published') return null;
	const unverified = await unverifiedExercises(db, kind, id);
	return unverified.length ? refusalMessage(kind, unverified) : null;
}

function refusalMessage(kind: 'module' | 'lesson', unverified: { title: string }[]) {
	return `This ${kind} cannot be published yet: ${unverified.length} exercise${
		unverified.length === 1 ? ' has' : 's have'
	} checks that were not verified for the current solution (${unverified
		.map((u) => `“${u.title}”`)
		.join(', ')}). Open each one and use Run checks.`;
}

export type StatusResult =
	| { ok: true; changed: boolean }
	| { ok: false; message: string; unverified: { id: string; title: string; lesson: string }[] };

/** The exercises below a module or lesson whose checks are not verified for their current code. */
export async function unverifiedExercises(db: Db, kind: 'module' | 'lesson', id: string) {
	const rows = await db
		.select({
			id: exercises.id,
			title: exercises.title,
			lesson: lessons.title,
			starterCode: exercises.starterCode,
			solutionCode: exercises.solutionCode,
			checks: exercises.checks,
			checksVerifiedHash: exercises.checksVerifiedHash
		})
		.from(exercises)
		.innerJoin(lessons, eq(lessons.id, exercises.lessonId))
		.where(kind === 'module' ? eq(lessons.moduleId, id) : eq(lessons.id, id))
		.orderBy(asc(lessons.position), asc(exercises.position));
	return rows
		.filter((r) => !verification(r))
		.map((r) => ({ id: r.id, title: r.title, lesson: r.lesson }));
}

/**
 * Publishes or unpublishes a module or lesson. Publishing is refused while any exercise in it has
 * checks that were not verified for its current solution and checks.
 */
export async function setStatus(
	db: Db,
	kind: 'module' | 'lesson',
	id: string,
	status: ContentStatus
): Promise<StatusResult> {
	const table = kind === 'module' ? modules : lessons;
	const [row] = await db.select({ status: table.status }).from(table).where(eq(table.id, id));
	if (!row) return { ok: false, message: `This ${kind} no longer exists.`, unverified: [] };
	if (row.status === status) return { ok: true, changed: false };
	if (status === 'published') {
		const unverified = await unverifiedExercises(db, kind, id);
		if (unverified.length)
			return { ok: false, message: refusalMessage(kind, unverified), unverified };
	}
	await db.update(table).set({ status, updatedAt: new Date() }).where(eq(table.id, id));
	return { ok: true, changed: true };
}

export type VerifyResult = { ok: true } | { ok: false; status: 404 | 409; message: string };

/**
 * Records that the checks passed on the solution and failed on the starter in the admin's browser.
 * `hash` is what the browser ran (the page sent it with the saved content); it is only accepted when
 * the stored solution and checks still produce it.
 */
export async function recordVerification(db: Db, id: string, hash: string): Promise<VerifyResult> {
	return db.transaction(async (tx) => {
		const [row] = await tx
			.select({
				starterCode: exercises.starterCode,
				solutionCode: exercises.solutionCode,
				checks: exercises.checks
			})
			.from(exercises)
			.where(eq(exercises.id, id))
			.for('update');
		if (!row) return { ok: false, status: 404, message: 'This exercise no longer exists.' };
		if (checksHash(row) !== hash)
			return {
				ok: false,
				status: 409,
				message:
					'The saved starter, solution or checks changed since this run. Save your changes, then run the checks again.'
			};
		await tx
			.update(exercises)
			.set({ checksVerifiedHash: hash })
			.where(and(eq(exercises.id, id)));
		return { ok: true };
	});
}
