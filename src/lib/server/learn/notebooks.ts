/**
 * Module notebooks for the Python lab: validation (nbformat 4, size limits), the course version
 * from content packs, and each student's copy saved from the lab through /api/me/notebooks.
 *
 * A student's copy records which course version it started from (`baseHash`). When the course
 * version changes, the copy is kept as it is and `newerOriginal` tells the student; resetting
 * deletes the copy, so the course version shows again.
 *
 * @example
 * const checked = checkNotebook(JSON.parse(text));
 * if (!checked.ok) throw new Error(checked.message);
 * await setModuleNotebook(tx, moduleId, checked.notebook);
 */
import { createHash } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import {
	moduleNotebooks,
	modules,
	studentNotebooks,
	type NotebookJson
} from '#lib/server/db/schema.ts';
import { MAX_DEPTH, nestedDeeperThan } from '#lib/server/http/json.ts';

/** A course notebook in a pack (one file, also capped by the pack's per-file limit). */
export const COURSE_NOTEBOOK_MAX_BYTES = 200_000;
/** A student's saved copy, outputs included. */
export const STUDENT_NOTEBOOK_MAX_BYTES = 1_000_000;
const MAX_CELLS = 500;
const CELL_TYPES = new Set(['code', 'markdown', 'raw']);

export type NotebookCheck = { ok: true; notebook: NotebookJson } | { ok: false; message: string };

const isObject = (x: unknown): x is Record<string, unknown> =>
	typeof x === 'object' && x !== null && !Array.isArray(x);
const isSource = (x: unknown) =>
	typeof x === 'string' || (Array.isArray(x) && x.every((s) => typeof s === 'string'));

/**
 * Checks that `value` is an nbformat 4 notebook the lab can open: `nbformat` 4, a `metadata`
 * object, `cells` each with a known `cell_type`, a string (or list of strings) `source` and a
 * `metadata` object; code cells with an `outputs` list. Unknown extra fields are kept.
 */
export function checkNotebook(
	value: unknown,
	maxBytes = STUDENT_NOTEBOOK_MAX_BYTES
): NotebookCheck {
	if (!isObject(value)) return { ok: false, message: 'A notebook must be a JSON object.' };
	if (nestedDeeperThan(value, MAX_DEPTH))
		return { ok: false, message: `A notebook may nest at most ${MAX_DEPTH} levels deep.` };
	if (value.nbformat !== 4)
		return { ok: false, message: 'Only nbformat 4 notebooks are supported.' };
	if (typeof value.nbformat_minor !== 'number' || !Number.isInteger(value.nbformat_minor))
		return { ok: false, message: 'nbformat_minor must be a whole number.' };
	if (!isObject(value.metadata)) return { ok: false, message: 'metadata must be an object.' };
	if (!Array.isArray(value.cells)) return { ok: false, message: 'cells must be a list.' };
	if (value.cells.length > MAX_CELLS)
		return { ok: false, message: `A notebook may have at most ${MAX_CELLS} cells.` };
	for (const [i, cell] of value.cells.entries()) {
		const at = `cell ${i + 1}`;
		if (!isObject(cell)) return { ok: false, message: `${at} must be an object.` };
		if (typeof cell.cell_type !== 'string' || !CELL_TYPES.has(cell.cell_type))
			return { ok: false, message: `${at}: cell_type must be code, markdown or raw.` };
		if (!isSource(cell.source))
			return { ok: false, message: `${at}: source must be text or a list of lines.` };
		if (!isObject(cell.metadata))
			return { ok: false, message: `${at}: metadata must be an object.` };
		if (cell.cell_type === 'code' && !Array.isArray(cell.outputs))
			return { ok: false, message: `${at}: a code cell needs an outputs list.` };
	}
	const bytes = Buffer.byteLength(JSON.stringify(value));
	if (bytes > maxBytes)
		return { ok: false, message: `The notebook is larger than ${maxBytes} bytes (${bytes}).` };
	return { ok: true, notebook: value as NotebookJson };
}

/** Parses and checks a pack's `notebook.ipynb` text. */
export function parseNotebookText(text: string): NotebookCheck {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		return { ok: false, message: `not valid JSON (${(error as Error).message})` };
	}
	return checkNotebook(value, COURSE_NOTEBOOK_MAX_BYTES);
}

/** The text a pack stores for a notebook (stable: one-space indent, like Jupyter, and a newline). */
export function notebookText(notebook: NotebookJson): string {
	return JSON.stringify(notebook, null, 1) + '\n';
}

/** JSON with sorted keys, so the hash does not depend on key order (jsonb reorders keys). */
function canonical(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
	if (isObject(value))
		return `{${Object.keys(value)
			.sort()
			.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
			.join(',')}}`;
	return JSON.stringify(value);
}

export function notebookHash(notebook: NotebookJson): string {
	return createHash('sha256').update(canonical(notebook)).digest('hex');
}

/**
 * Sets (or with `null` removes) the course version of a module's notebook. Students' copies are
 * never touched. Returns whether anything changed.
 */
export async function setModuleNotebook(
	db: Db,
	moduleId: string,
	notebook: NotebookJson | null
): Promise<boolean> {
	if (notebook === null) {
		const gone = await db
			.delete(moduleNotebooks)
			.where(eq(moduleNotebooks.moduleId, moduleId))
			.returning({ id: moduleNotebooks.moduleId });
		return gone.length > 0;
	}
	const hash = notebookHash(notebook);
	const [current] = await db
		.select({ hash: moduleNotebooks.hash })
		.from(moduleNotebooks)
		.where(eq(moduleNotebooks.moduleId, moduleId));
	if (current?.hash === hash) return false;
	await db
		.insert(moduleNotebooks)
		.values({ moduleId, content: notebook, hash })
		.onConflictDoUpdate({
			target: moduleNotebooks.moduleId,
			set: { content: notebook, hash, updatedAt: new Date() }
		});
	return true;
}

/** The course notebooks of some modules, by module id (for export). */
export async function moduleNotebooksById(db: Db, moduleIds: string[]) {
	if (!moduleIds.length) return new Map<string, NotebookJson>();
	const rows = await db
		.select({ moduleId: moduleNotebooks.moduleId, content: moduleNotebooks.content })
		.from(moduleNotebooks)
		.where(inArray(moduleNotebooks.moduleId, moduleIds));
	return new Map(rows.map((r) => [r.moduleId, r.content]));
}

/** What the lab and the module page see of one module's notebook for one student. */
export interface NotebookItem {
	module: string;
	/** The file name in the lab: `<module slug>.ipynb`. */
	name: string;
	title: string;
	/** True once the student saved their own copy. */
	edited: boolean;
	/** True when the course version changed after the student's copy was made. */
	newerOriginal: boolean;
	createdAt: string;
	/** The student's last save, or the course version's date. */
	updatedAt: string;
	originalUpdatedAt: string;
}

type Row = {
	moduleId: string;
	slug: string;
	title: string;
	hash: string;
	originalContent: NotebookJson;
	originalCreatedAt: Date;
	originalUpdatedAt: Date;
	copyContent: NotebookJson | null;
	copyBaseHash: string | null;
	copyCreatedAt: Date | null;
	copyUpdatedAt: Date | null;
};

function item(row: Row): NotebookItem {
	const edited = row.copyContent !== null;
	return {
		module: row.slug,
		name: `${row.slug}.ipynb`,
		title: row.title,
		edited,
		newerOriginal: edited && row.copyBaseHash !== row.hash,
		createdAt: (row.copyCreatedAt ?? row.originalCreatedAt).toISOString(),
		updatedAt: (row.copyUpdatedAt ?? row.originalUpdatedAt).toISOString(),
		originalUpdatedAt: row.originalUpdatedAt.toISOString()
	};
}

function rows(db: Db, userId: string, preview: boolean, slug?: string) {
	return db
		.select({
			moduleId: modules.id,
			slug: modules.slug,
			title: modules.title,
			hash: moduleNotebooks.hash,
			originalContent: moduleNotebooks.content,
			originalCreatedAt: moduleNotebooks.createdAt,
			originalUpdatedAt: moduleNotebooks.updatedAt,
			copyContent: studentNotebooks.content,
			copyBaseHash: studentNotebooks.baseHash,
			copyCreatedAt: studentNotebooks.createdAt,
			copyUpdatedAt: studentNotebooks.updatedAt
		})
		.from(moduleNotebooks)
		.innerJoin(modules, eq(modules.id, moduleNotebooks.moduleId))
		.leftJoin(
			studentNotebooks,
			and(
				eq(studentNotebooks.moduleId, moduleNotebooks.moduleId),
				eq(studentNotebooks.userId, userId)
			)
		)
		.where(
			and(
				slug === undefined ? undefined : eq(modules.slug, slug),
				preview ? undefined : eq(modules.status, 'published')
			)
		)
		.orderBy(asc(modules.position), asc(modules.slug));
}

/** Every module notebook the student can open (published modules; all of them for a preview). */
export async function listNotebooks(db: Db, userId: string, preview = false) {
	return (await rows(db, userId, preview)).map(item);
}

/** One module's notebook for a student: their copy if they saved one, else the course version. */
export async function getNotebook(db: Db, userId: string, slug: string, preview = false) {
	const [row] = await rows(db, userId, preview, slug);
	if (!row) return null;
	return { ...item(row), content: row.copyContent ?? row.originalContent };
}

/** Saves the student's copy; the first save records the course version it started from. */
export async function saveNotebook(
	db: Db,
	userId: string,
	slug: string,
	content: NotebookJson,
	preview = false
) {
	const [row] = await rows(db, userId, preview, slug);
	if (!row) return null;
	const now = new Date();
	await db
		.insert(studentNotebooks)
		.values({ userId, moduleId: row.moduleId, content, baseHash: row.hash, updatedAt: now })
		.onConflictDoUpdate({
			target: [studentNotebooks.userId, studentNotebooks.moduleId],
			set: { content, updatedAt: now }
		});
	return getNotebook(db, userId, slug, preview);
}

/** Deletes the student's copy, so the course's current version is what the lab opens. */
export async function resetNotebook(db: Db, userId: string, slug: string, preview = false) {
	const [row] = await rows(db, userId, preview, slug);
	if (!row) return null;
	await db
		.delete(studentNotebooks)
		.where(and(eq(studentNotebooks.userId, userId), eq(studentNotebooks.moduleId, row.moduleId)));
	return getNotebook(db, userId, slug, preview);
}
