/**
 * Content packs (see content/README.md): a folder of markdown files with YAML frontmatter plus
 * exercise files. `parsePack` reads one from a map of relative paths to file text, validates all of
 * it and returns either the whole pack or every problem found, each naming its file and line.
 * `packFiles` does the reverse, for export.
 *
 * @example
 * const result = parsePack(await readPackDir('content/starter'));
 * if (!result.ok) for (const e of result.errors) console.log(`${e.file}:${e.line ?? 1} ${e.message}`);
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as v from 'valibot';
import { parseDocument, stringify } from 'yaml';
import type { ContentStatus, NotebookJson } from '#lib/server/db/schema.ts';
import { notebookText, parseNotebookText } from './notebooks';

export interface PackExercise {
	slug: string;
	title: string;
	difficulty: number;
	prompt: string;
	starterCode: string;
	solutionCode: string;
	checks: string;
}
export interface PackLesson {
	slug: string;
	title: string;
	summary: string;
	minutes: number;
	body: string;
	exercises: PackExercise[];
}
export interface PackModule {
	slug: string;
	title: string;
	summary: string;
	status: ContentStatus;
	body: string;
	lessons: PackLesson[];
	/** The module's notebook for the Python lab (`notebook.ipynb`); null: none; undefined: unchanged. */
	notebook?: NotebookJson | null;
}
export interface Pack {
	slug: string;
	title: string;
	version: string;
	description: string;
	modules: PackModule[];
}
export interface PackError {
	file: string;
	line?: number;
	message: string;
}
export type PackResult = { ok: true; pack: Pack } | { ok: false; errors: PackError[] };

/** Limits that keep an upload from exhausting memory or the database. */
export const PACK_LIMITS = { files: 2000, fileBytes: 200_000, totalBytes: 10_000_000 };

const SLUG_DIR = /^(\d{1,4})-([a-z0-9]+(?:-[a-z0-9]+)*)$/;
const slug = v.pipe(
	v.string(),
	v.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'use lower-case letters, digits and dashes'),
	v.maxLength(80)
);
const title = v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(200));
const summary = v.optional(v.pipe(v.string(), v.maxLength(1000)), '');

const PackMeta = v.strictObject({
	slug,
	title,
	version: v.optional(v.union([v.string(), v.number()]), '1'),
	description: v.optional(v.string())
});
const ModuleMeta = v.strictObject({
	title,
	summary,
	status: v.optional(v.picklist(['published', 'draft']), 'published')
});
const LessonMeta = v.strictObject({
	title,
	summary,
	minutes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(600)), 10)
});
const ExerciseMeta = v.strictObject({
	title,
	difficulty: v.optional(v.picklist([1, 2, 3]), 1)
});

interface Doc {
	meta: unknown;
	body: string;
	/** Line of the frontmatter's first key (for error reports). */
	metaLine: number;
}

/** Splits `---` YAML frontmatter from a markdown body; reports YAML errors with their file line. */
function readDoc(file: string, text: string, errors: PackError[]): Doc | null {
	const normalized = text.replace(/\r\n?/g, '\n');
	const match = /^---\n([\s\S]*?)\n---(?:\n|$)/.exec(normalized);
	if (!match) {
		errors.push({ file, line: 1, message: 'must start with YAML frontmatter between --- lines' });
		return null;
	}
	const doc = parseDocument(match[1]!, { prettyErrors: true, uniqueKeys: true });
	if (doc.errors.length) {
		for (const e of doc.errors)
			errors.push({
				file,
				line: (e.linePos?.[0]?.line ?? 1) + 1,
				message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
			});
		return null;
	}
	return { meta: doc.toJS(), body: normalized.slice(match[0].length).trim(), metaLine: 2 };
}

/** Validates frontmatter; each problem is reported on the line of its key when it can be found. */
function checkMeta<S extends v.GenericSchema>(
	schema: S,
	file: string,
	text: string,
	doc: Doc,
	errors: PackError[]
): v.InferOutput<S> | null {
	const result = v.safeParse(schema, doc.meta ?? {});
	if (result.success) return result.output;
	const lines = text.replace(/\r\n?/g, '\n').split('\n');
	for (const issue of result.issues) {
		const key = issue.path?.map((p) => String(p.key)).join('.');
		const at = key ? lines.findIndex((l) => l.startsWith(`${key}:`)) : -1;
		const message =
			issue.kind === 'schema' && issue.type === 'strict_object' && key
				? `unknown field "${key}"`
				: key
					? `${key}: ${issue.received === 'undefined' ? 'is required' : issue.message}`
					: issue.message;
		errors.push({ file, line: at >= 0 ? at + 1 : doc.metaLine - 1, message });
	}
	return null;
}

/** The numbered sub-folders of `dir`, in order, with their slugs. */
function children(files: Map<string, string>, dir: string, errors: PackError[]) {
	const prefix = dir ? `${dir}/` : '';
	const names = new Set<string>();
	for (const name of files.keys()) {
		if (!name.startsWith(prefix)) continue;
		const rest = name.slice(prefix.length).split('/');
		if (rest.length > 1) names.add(rest[0]!);
	}
	const found: { dir: string; slug: string; order: number }[] = [];
	for (const name of names) {
		const m = SLUG_DIR.exec(name);
		if (!m) {
			errors.push({
				file: `${prefix}${name}/`,
				message: 'folder names must look like 01-some-slug (a number, a dash, then a slug)'
			});
			continue;
		}
		found.push({ dir: `${prefix}${name}`, slug: m[2]!, order: Number(m[1]) });
	}
	found.sort((a, b) => a.order - b.order || a.slug.localeCompare(b.slug));
	const seen = new Map<string, string>();
	for (const f of found) {
		const other = seen.get(f.slug);
		if (other) errors.push({ file: `${f.dir}/`, message: `same slug as ${other}/` });
		seen.set(f.slug, f.dir);
	}
	return found;
}

function need(files: Map<string, string>, file: string, errors: PackError[]): string | null {
	const text = files.get(file);
	if (text === undefined) {
		errors.push({ file, message: 'file is missing' });
		return null;
	}
	return text;
}

function checkChecks(file: string, text: string, errors: PackError[]) {
	if (!/^def check_\w+\s*\(/m.test(text))
		errors.push({ file, line: 1, message: 'defines no check (a function named check_...)' });
	const tab = text.split('\n').findIndex((l) => /^\t/.test(l));
	if (tab >= 0)
		errors.push({ file, line: tab + 1, message: 'indent with spaces, not tabs (Python style)' });
}

/** Removes a single top folder shared by every path (a zip or a folder upload adds one). */
export function stripCommonRoot(files: Map<string, string>): Map<string, string> {
	if (files.has('pack.md')) return files;
	const roots = new Set([...files.keys()].map((k) => k.split('/')[0]));
	if (roots.size !== 1) return files;
	const [root] = roots;
	return new Map([...files].map(([k, text]) => [k.slice(root!.length + 1), text]));
}

export function parsePack(input: Map<string, string>): PackResult {
	const errors: PackError[] = [];
	if (input.size > PACK_LIMITS.files)
		return {
			ok: false,
			errors: [{ file: '(pack)', message: `too many files (at most ${PACK_LIMITS.files})` }]
		};
	const files = new Map<string, string>();
	let total = 0;
	for (const [name, text] of stripCommonRoot(input)) {
		const clean = name.replace(/\\/g, '/').replace(/^\.\//, '');
		if (clean.split('/').some((part) => part === '..' || part.startsWith('.'))) continue;
		if (text.length > PACK_LIMITS.fileBytes)
			errors.push({ file: clean, message: `file is larger than ${PACK_LIMITS.fileBytes} bytes` });
		total += text.length;
		files.set(clean, text);
	}
	if (total > PACK_LIMITS.totalBytes)
		errors.push({ file: '(pack)', message: `pack is larger than ${PACK_LIMITS.totalBytes} bytes` });

	const packText = need(files, 'pack.md', errors);
	const packDoc = packText === null ? null : readDoc('pack.md', packText, errors);
	const packMeta = packDoc && checkMeta(PackMeta, 'pack.md', packText!, packDoc, errors);

	const modules: PackModule[] = [];
	const moduleDirs = children(files, '', errors);
	if (!moduleDirs.length) errors.push({ file: '(pack)', message: 'has no module folders' });
	for (const m of moduleDirs) {
		const file = `${m.dir}/module.md`;
		const text = need(files, file, errors);
		const doc = text === null ? null : readDoc(file, text, errors);
		const meta = doc && checkMeta(ModuleMeta, file, text!, doc, errors);
		const lessons: PackLesson[] = [];
		for (const l of children(files, m.dir, errors)) {
			const lessonFile = `${l.dir}/lesson.md`;
			const lessonText = need(files, lessonFile, errors);
			const lessonDoc = lessonText === null ? null : readDoc(lessonFile, lessonText, errors);
			const lessonMeta =
				lessonDoc && checkMeta(LessonMeta, lessonFile, lessonText!, lessonDoc, errors);
			if (lessonDoc && !lessonDoc.body)
				errors.push({ file: lessonFile, message: 'the lesson text is empty' });
			const exercises: PackExercise[] = [];
			for (const x of children(files, l.dir, errors)) {
				const exFile = `${x.dir}/exercise.md`;
				const exText = need(files, exFile, errors);
				const exDoc = exText === null ? null : readDoc(exFile, exText, errors);
				const exMeta = exDoc && checkMeta(ExerciseMeta, exFile, exText!, exDoc, errors);
				if (exDoc && !exDoc.body) errors.push({ file: exFile, message: 'the prompt is empty' });
				const starterCode = need(files, `${x.dir}/starter.py`, errors);
				const solutionCode = need(files, `${x.dir}/solution.py`, errors);
				const checks = need(files, `${x.dir}/checks.py`, errors);
				if (checks !== null) checkChecks(`${x.dir}/checks.py`, checks, errors);
				if (solutionCode !== null && !solutionCode.trim())
					errors.push({ file: `${x.dir}/solution.py`, message: 'the solution is empty' });
				if (exMeta && exDoc && starterCode !== null && solutionCode !== null && checks !== null)
					exercises.push({
						slug: x.slug,
						title: exMeta.title,
						difficulty: exMeta.difficulty,
						prompt: exDoc.body,
						starterCode,
						solutionCode,
						checks
					});
			}
			if (lessonMeta && lessonDoc)
				lessons.push({
					slug: l.slug,
					title: lessonMeta.title,
					summary: lessonMeta.summary,
					minutes: lessonMeta.minutes,
					body: lessonDoc.body,
					exercises
				});
		}
		if (doc && !children(files, m.dir, []).length)
			errors.push({ file, message: 'the module has no lesson folders' });
		const notebookFile = `${m.dir}/notebook.ipynb`;
		const notebookSource = files.get(notebookFile);
		const notebook = notebookSource === undefined ? null : parseNotebookText(notebookSource);
		if (notebook && !notebook.ok) errors.push({ file: notebookFile, message: notebook.message });
		if (meta && doc)
			modules.push({
				slug: m.slug,
				title: meta.title,
				summary: meta.summary,
				status: meta.status,
				body: doc.body,
				lessons,
				notebook: notebook?.ok ? notebook.notebook : null
			});
	}
	if (errors.length || !packMeta || !packDoc) return { ok: false, errors };
	return {
		ok: true,
		pack: {
			slug: packMeta.slug,
			title: packMeta.title,
			version: String(packMeta.version),
			description: packMeta.description ?? packDoc.body,
			modules
		}
	};
}

function doc(meta: Record<string, unknown>, body: string) {
	return `---\n${stringify(meta).trimEnd()}\n---\n\n${body.trim()}\n`;
}
const num = (i: number) => String(i + 1).padStart(2, '0');

/** The files of a pack, ready to write to a folder or a zip; `parsePack(packFiles(p))` gives `p`. */
export function packFiles(pack: Pack): Map<string, string> {
	const files = new Map<string, string>();
	files.set(
		'pack.md',
		doc({ slug: pack.slug, title: pack.title, version: pack.version }, pack.description)
	);
	pack.modules.forEach((m, i) => {
		const mdir = `${num(i)}-${m.slug}`;
		files.set(
			`${mdir}/module.md`,
			doc({ title: m.title, summary: m.summary, status: m.status }, m.body)
		);
		if (m.notebook) files.set(`${mdir}/notebook.ipynb`, notebookText(m.notebook));
		m.lessons.forEach((l, j) => {
			const ldir = `${mdir}/${num(j)}-${l.slug}`;
			files.set(
				`${ldir}/lesson.md`,
				doc({ title: l.title, summary: l.summary, minutes: l.minutes }, l.body)
			);
			l.exercises.forEach((x, k) => {
				const xdir = `${ldir}/${num(k)}-${x.slug}`;
				files.set(
					`${xdir}/exercise.md`,
					doc({ title: x.title, difficulty: x.difficulty }, x.prompt)
				);
				files.set(`${xdir}/starter.py`, x.starterCode);
				files.set(`${xdir}/solution.py`, x.solutionCode);
				files.set(`${xdir}/checks.py`, x.checks);
			});
		});
	});
	return files;
}

/** Reads every file under `dir` (relative paths with forward slashes). */
export async function readPackDir(dir: string): Promise<Map<string, string>> {
	const files = new Map<string, string>();
	const entries = await readdir(dir, { recursive: true, withFileTypes: true });
	for (const entry of entries) {
		if (!entry.isFile()) continue;
		const full = path.join(entry.parentPath, entry.name);
		files.set(path.relative(dir, full).split(path.sep).join('/'), await readFile(full, 'utf8'));
	}
	return files;
}
