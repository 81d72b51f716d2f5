/**
 * Course content in the database: importing and exporting content packs, the starter curriculum
 * on first start, and the course passages the tutor searches.
 *
 * @example
 * const parsed = parsePack(await readPackDir('content/starter'));
 * if (parsed.ok) await importPack(db, parsed.pack);
 */
import { and, asc, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { existsSync } from 'node:fs';
import type { Db } from '#lib/server/db/index.ts';
import {
	coursePassages,
	exercises,
	lessons,
	modules,
	type ContentStatus
} from '#lib/server/db/schema.ts';
import { logger } from '#lib/server/log.ts';
import { moduleNotebooksById, setModuleNotebook } from './notebooks';
import { parsePack, readPackDir, type Pack, type PackError } from './pack';
import { checksHash, PACK_PREFIX } from './verification';
import { invalidateLesson } from '#lib/server/cost/cache.ts';
import { passagesChanged } from '#lib/server/tutor/passage-index.ts';

export interface ImportSummary {
	modules: number;
	lessons: number;
	exercises: number;
}

/** Paragraphs of markdown, never cutting a fenced code block in two. */
function paragraphs(text: string): string[] {
	const blocks: string[] = [];
	let current: string[] = [];
	let fenced = false;
	for (const line of text.split('\n')) {
		if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
		if (!fenced && !line.trim()) {
			if (current.length) blocks.push(current.join('\n'));
			current = [];
		} else current.push(line);
	}
	if (current.length) blocks.push(current.join('\n'));
	return blocks;
}

/** A lesson split into passages for retrieval: one per `##` section, long sections in chunks. */
export function splitPassages(title: string, body: string, max = 1400) {
	const passages: { title: string; body: string }[] = [];
	const sections = body.split(/\n(?=#{1,3} )/);
	for (const section of sections) {
		const heading = /^#{1,3} (.+)\n?/.exec(section);
		const sectionTitle = heading ? `${title}: ${heading[1]!.trim()}` : title;
		const text = (heading ? section.slice(heading[0].length) : section).trim();
		if (!text) continue;
		const blocks = paragraphs(text);
		let current = '';
		for (const block of blocks) {
			if (current && current.length + block.length > max) {
				passages.push({ title: sectionTitle, body: current });
				current = '';
			}
			current = current ? `${current}\n\n${block}` : block;
		}
		if (current) passages.push({ title: sectionTitle, body: current });
	}
	return passages;
}

/** Replaces a lesson's passages (call inside the transaction that changed the lesson). */
export async function indexLesson(db: Db, lesson: { id: string; title: string; body: string }) {
	const source = `lesson:${lesson.id}`;
	// Cached tutor answers about the lesson were written for its old text.
	await invalidateLesson(db, lesson.id);
	await db.delete(coursePassages).where(eq(coursePassages.source, source));
	const passages = splitPassages(lesson.title, lesson.body);
	if (passages.length)
		await db.insert(coursePassages).values(passages.map((p) => ({ source, ...p })));
	passagesChanged();
}

/**
 * Writes a validated pack in one transaction: modules are matched by slug, lessons and exercises
 * by slug within their parent (so students' progress on unchanged exercises is kept); lessons and
 * exercises the pack no longer has are removed.
 */
export async function importPack(db: Db, pack: Pack): Promise<ImportSummary> {
	const summary: ImportSummary = { modules: 0, lessons: 0, exercises: 0 };
	await db.transaction(async (tx) => {
		const [{ base }] = (await tx
			.select({ base: sql<number>`coalesce(max(${modules.position}), -1) + 1` })
			.from(modules)
			.where(
				notInArray(
					modules.slug,
					pack.modules.map((m) => m.slug)
				)
			)) as [{ base: number }];
		for (const [i, m] of pack.modules.entries()) {
			const values = {
				slug: m.slug,
				title: m.title,
				summary: m.summary,
				body: m.body,
				status: m.status,
				pack: pack.slug,
				updatedAt: new Date()
			};
			const [row] = await tx
				.insert(modules)
				.values({ ...values, position: base + i })
				.onConflictDoUpdate({ target: modules.slug, set: values })
				.returning({ id: modules.id });
			summary.modules++;
			// The course version only; students' saved copies are never overwritten.
			if (m.notebook !== undefined) await setModuleNotebook(tx, row!.id, m.notebook);
			const lessonIds: string[] = [];
			for (const [j, l] of m.lessons.entries()) {
				const lessonValues = {
					title: l.title,
					summary: l.summary,
					body: l.body,
					minutes: l.minutes,
					position: j,
					status: 'published' as ContentStatus,
					updatedAt: new Date()
				};
				const [lesson] = await tx
					.insert(lessons)
					.values({ moduleId: row!.id, slug: l.slug, ...lessonValues })
					.onConflictDoUpdate({ target: [lessons.moduleId, lessons.slug], set: lessonValues })
					.returning({ id: lessons.id });
				lessonIds.push(lesson!.id);
				summary.lessons++;
				await indexLesson(tx, { id: lesson!.id, title: l.title, body: l.body });
				const exerciseIds: string[] = [];
				for (const [k, x] of l.exercises.entries()) {
					const exValues = {
						title: x.title,
						difficulty: x.difficulty,
						prompt: x.prompt,
						starterCode: x.starterCode,
						solutionCode: x.solutionCode,
						checks: x.checks,
						// Pack content counts as verified by its author (see verification.ts).
						checksVerifiedHash: PACK_PREFIX + checksHash(x),
						position: k,
						updatedAt: new Date()
					};
					const [exercise] = await tx
						.insert(exercises)
						.values({ lessonId: lesson!.id, slug: x.slug, ...exValues })
						.onConflictDoUpdate({ target: [exercises.lessonId, exercises.slug], set: exValues })
						.returning({ id: exercises.id });
					exerciseIds.push(exercise!.id);
					summary.exercises++;
				}
				await tx
					.delete(exercises)
					.where(
						and(
							eq(exercises.lessonId, lesson!.id),
							exerciseIds.length ? notInArray(exercises.id, exerciseIds) : undefined
						)
					);
			}
			const gone = await tx
				.delete(lessons)
				.where(
					and(
						eq(lessons.moduleId, row!.id),
						lessonIds.length ? notInArray(lessons.id, lessonIds) : undefined
					)
				)
				.returning({ id: lessons.id });
			if (gone.length) {
				await tx.delete(coursePassages).where(
					inArray(
						coursePassages.source,
						gone.map((g) => `lesson:${g.id}`)
					)
				);
				passagesChanged();
			}
		}
	});
	return summary;
}

/** The course (all modules, or one pack's) as a pack, for export. */
export async function exportPack(
	db: Db,
	meta: { slug: string; title: string; version?: string; description?: string },
	options: { pack?: string } = {}
): Promise<Pack> {
	const moduleRows = await db
		.select()
		.from(modules)
		.where(options.pack ? eq(modules.pack, options.pack) : undefined)
		.orderBy(asc(modules.position), asc(modules.slug));
	const ids = moduleRows.map((m) => m.id);
	const lessonRows = ids.length
		? await db
				.select()
				.from(lessons)
				.where(inArray(lessons.moduleId, ids))
				.orderBy(asc(lessons.position))
		: [];
	const lessonIds = lessonRows.map((l) => l.id);
	const exerciseRows = lessonIds.length
		? await db
				.select()
				.from(exercises)
				.where(inArray(exercises.lessonId, lessonIds))
				.orderBy(asc(exercises.position))
		: [];
	const notebooks = await moduleNotebooksById(db, ids);
	return {
		slug: meta.slug,
		title: meta.title,
		version: meta.version ?? '1',
		description: meta.description ?? '',
		modules: moduleRows.map((m) => ({
			slug: m.slug,
			title: m.title,
			summary: m.summary,
			status: m.status,
			body: m.body,
			notebook: notebooks.get(m.id) ?? null,
			lessons: lessonRows
				.filter((l) => l.moduleId === m.id)
				.map((l) => ({
					slug: l.slug,
					title: l.title,
					summary: l.summary,
					minutes: l.minutes,
					body: l.body,
					exercises: exerciseRows
						.filter((x) => x.lessonId === l.id)
						.map((x) => ({
							slug: x.slug,
							title: x.title,
							difficulty: x.difficulty,
							prompt: x.prompt,
							starterCode: x.starterCode,
							solutionCode: x.solutionCode,
							checks: x.checks
						}))
				}))
		}))
	};
}

export class PackInvalidError extends Error {
	constructor(readonly errors: PackError[]) {
		super(
			`content pack is invalid:\n${errors.map((e) => `  ${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`).join('\n')}`
		);
	}
}

/** Reads, validates and imports a pack folder; throws PackInvalidError and changes nothing if bad. */
export async function importPackDir(db: Db, dir: string) {
	const parsed = parsePack(await readPackDir(dir));
	if (!parsed.ok) throw new PackInvalidError(parsed.errors);
	return { pack: parsed.pack, summary: await importPack(db, parsed.pack) };
}

/**
 * Loads the starter curriculum the first time a server starts on an empty course. Replicas starting
 * together take turns on an advisory lock, and only the first finds the course empty.
 */
export async function seedStarterContent(db: Db, dir: string) {
	if (!dir || !existsSync(dir)) return null;
	const parsed = parsePack(await readPackDir(dir));
	if (!parsed.ok) throw new PackInvalidError(parsed.errors);
	return db.transaction(async (tx) => {
		await tx.execute(sql`select pg_advisory_xact_lock(72011002)`);
		const [any] = await tx.select({ id: modules.id }).from(modules).limit(1);
		if (any) return null;
		const summary = await importPack(tx, parsed.pack);
		logger().info(summary, 'starter curriculum loaded');
		return summary;
	});
}
