/**
 * The question bank: the shape of a question in files and imports (valibot, with per-kind rules),
 * importing and exporting it as JSON, CSV or the YAML files in `content/questions/`, and seeding
 * those files on first start.
 *
 * An import is all or nothing: every row is checked first (shape, kind rules, known exam and
 * topic, no duplicate refs), and a file with any bad row changes nothing; the report names each
 * bad row and why.
 *
 * @example
 * const report = await importQuestions(db, parseJsonRows(text));
 * if (!report.ok) for (const e of report.errors) console.log(`row ${e.row}: ${e.message}`);
 */
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { asc, eq, inArray, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { parse as parseYaml } from 'yaml';
import type { Db } from '../db';
import { exams, questions, topics, type Question, type QuestionKind } from '../db/schema';
import { logger } from '../log';
import { formatCsv, parseCsv } from './csv';

export const KINDS = ['single', 'multiple', 'short', 'output', 'code'] as const;
export const KIND_LABELS: Record<QuestionKind, string> = {
	single: 'Single choice',
	multiple: 'Multiple choice',
	short: 'Short answer',
	output: 'Predict the output',
	code: 'Write code'
};
/** Rows in one import file at most. */
export const IMPORT_MAX_ROWS = 2000;

const Slug = v.pipe(
	v.string(),
	v.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'use lower-case letters, digits and hyphens'),
	v.maxLength(80)
);
const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));
const Required = (max: number) =>
	v.pipe(v.string(), v.trim(), v.nonEmpty('is required'), v.maxLength(max));

/** One question as files, imports and exports spell it (the exam and topic by slug). */
export const QuestionInput = v.object({
	ref: Slug,
	exam: Slug,
	topic: Slug,
	kind: v.picklist(KINDS, 'must be one of single, multiple, short, output, code'),
	difficulty: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3)),
	prompt: Required(5000),
	code: v.optional(Text(5000), ''),
	options: v.optional(v.array(Required(500)), []),
	answer: v.optional(
		v.nullable(v.union([v.number(), v.array(v.number()), v.string(), v.array(v.string())])),
		null
	),
	pattern: v.optional(v.nullable(Text(500)), null),
	starterCode: v.optional(Text(20_000), ''),
	solutionCode: v.optional(Text(20_000), ''),
	checks: v.optional(Text(20_000), ''),
	explanation: Required(5000)
});
export type QuestionInput = v.InferOutput<typeof QuestionInput>;

/** The per-kind rules valibot's shape cannot say. Returns problems, empty when fine. */
export function kindProblems(q: QuestionInput): string[] {
	const problems: string[] = [];
	const isIndex = (n: unknown) =>
		typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < q.options.length;
	switch (q.kind) {
		case 'single':
			if (q.options.length < 2 || q.options.length > 8)
				problems.push('options: give 2 to 8 options');
			if (!isIndex(q.answer))
				problems.push(
					`answer: must be the index (from 0) of one of the ${q.options.length} options`
				);
			break;
		case 'multiple': {
			if (q.options.length < 2 || q.options.length > 8)
				problems.push('options: give 2 to 8 options');
			const a = q.answer;
			if (!Array.isArray(a) || a.length === 0 || !a.every(isIndex))
				problems.push('answer: must be a list of option indexes (from 0), at least one');
			else if (new Set<unknown>(a).size !== a.length)
				problems.push('answer: an option is listed twice');
			break;
		}
		case 'short': {
			const a = q.answer;
			if (!Array.isArray(a) || a.length === 0 || !a.every((s) => typeof s === 'string' && s.trim()))
				problems.push('answer: must be a list of accepted answers (text), at least one');
			if (q.pattern) {
				try {
					const re = new RegExp(`^(?:${q.pattern})$`);
					if (Array.isArray(a))
						for (const s of a)
							if (typeof s === 'string' && !re.test(normalizeShort(s)))
								problems.push(`pattern: does not match the accepted answer "${s}"`);
				} catch {
					problems.push('pattern: is not a valid regular expression');
				}
			}
			break;
		}
		case 'output':
			if (!q.code.trim()) problems.push('code: the program whose output is asked for is required');
			if (typeof q.answer !== 'string') problems.push('answer: must be the exact output (text)');
			break;
		case 'code':
			if (!q.solutionCode.trim()) problems.push('solutionCode: is required');
			if (!/^def check_/m.test(q.checks))
				problems.push('checks: define at least one check_ function');
			break;
	}
	return problems;
}

/** Short answers compare after trimming and collapsing runs of whitespace. */
export function normalizeShort(text: string) {
	return text.trim().replace(/\s+/g, ' ');
}

/** Program output compares without trailing spaces on lines or blank lines at either end. */
export function normalizeOutput(text: string) {
	return text
		.replace(/\r\n?/g, '\n')
		.split('\n')
		.map((l) => l.trimEnd())
		.join('\n')
		.replace(/^\n+|\n+$/g, '');
}

export interface RowError {
	/** 1-based row number in the file (for CSV, the header is row 1, so data starts at 2). */
	row: number;
	ref?: string;
	message: string;
}

export type Checked = { ok: true; rows: QuestionInput[] } | { ok: false; errors: RowError[] };

/** Validates raw rows (objects) without touching the database. */
export function checkRows(raw: unknown[], rowNumber = (i: number) => i + 1): Checked {
	const errors: RowError[] = [];
	const rows: QuestionInput[] = [];
	const seen = new Map<string, number>();
	if (raw.length > IMPORT_MAX_ROWS)
		return { ok: false, errors: [{ row: 0, message: `at most ${IMPORT_MAX_ROWS} rows per file` }] };
	raw.forEach((item, i) => {
		const row = rowNumber(i);
		const ref =
			item && typeof item === 'object' && typeof (item as { ref?: unknown }).ref === 'string'
				? (item as { ref: string }).ref
				: undefined;
		const parsed = v.safeParse(QuestionInput, item);
		if (!parsed.success) {
			errors.push({
				row,
				ref,
				message: parsed.issues
					.map((issue) => `${v.getDotPath(issue) ?? 'row'}: ${issue.message}`)
					.join('; ')
			});
			return;
		}
		const problems = kindProblems(parsed.output);
		const earlier = seen.get(parsed.output.ref);
		if (earlier !== undefined)
			problems.push(`ref: "${parsed.output.ref}" is also used by row ${earlier}`);
		seen.set(parsed.output.ref, row);
		if (problems.length) errors.push({ row, ref, message: problems.join('; ') });
		else rows.push(parsed.output);
	});
	return errors.length ? { ok: false, errors } : { ok: true, rows };
}

export const CSV_COLUMNS = [
	'ref',
	'exam',
	'topic',
	'kind',
	'difficulty',
	'prompt',
	'code',
	'options',
	'answer',
	'pattern',
	'starterCode',
	'solutionCode',
	'checks',
	'explanation'
] as const;
/** CSV cells holding JSON (a list of options; the answer key). */
const JSON_COLUMNS = new Set(['options', 'answer']);

export type Parsed =
	| { ok: true; raw: unknown[]; rowNumber: (i: number) => number }
	| { ok: false; errors: RowError[] };

export function parseJsonRows(text: string): Parsed {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		return {
			ok: false,
			errors: [{ row: 0, message: `not valid JSON (${(error as Error).message})` }]
		};
	}
	const list = Array.isArray(value) ? value : (value as { questions?: unknown })?.questions;
	if (!Array.isArray(list))
		return {
			ok: false,
			errors: [{ row: 0, message: 'expected a list of questions (or { "questions": [...] })' }]
		};
	return { ok: true, raw: list, rowNumber: (i) => i + 1 };
}

export function parseCsvRows(text: string): Parsed {
	const table = parseCsv(text).filter((r) => r.some((c) => c.trim() !== ''));
	const header = table[0]?.map((h) => h.trim());
	if (!header) return { ok: false, errors: [{ row: 1, message: 'the file is empty' }] };
	const missing = ['ref', 'exam', 'topic', 'kind', 'difficulty', 'prompt', 'explanation'].filter(
		(c) => !header.includes(c)
	);
	if (missing.length)
		return { ok: false, errors: [{ row: 1, message: `missing columns: ${missing.join(', ')}` }] };
	const errors: RowError[] = [];
	const raw = table.slice(1).map((cells, i) => {
		const item: Record<string, unknown> = {};
		header.forEach((name, c) => {
			const cellText = cells[c] ?? '';
			if (!(CSV_COLUMNS as readonly string[]).includes(name)) return;
			if (name === 'difficulty') item[name] = cellText.trim() === '' ? undefined : Number(cellText);
			else if (JSON_COLUMNS.has(name)) {
				if (cellText.trim() === '') return;
				try {
					item[name] = JSON.parse(cellText);
				} catch {
					errors.push({
						row: i + 2,
						ref: cells[header.indexOf('ref')],
						message: `${name}: is not valid JSON`
					});
				}
			} else if (name === 'pattern') item[name] = cellText === '' ? null : cellText;
			else item[name] = cellText;
		});
		return item;
	});
	if (errors.length) return { ok: false, errors };
	return { ok: true, raw, rowNumber: (i) => i + 2 };
}

export interface ImportReport {
	ok: boolean;
	created: number;
	updated: number;
	errors: RowError[];
}

/**
 * Checks every row, then (only if all are good) writes them in one transaction, matching existing
 * questions by ref.
 */
export async function importQuestions(db: Db, parsed: Parsed): Promise<ImportReport> {
	if (!parsed.ok) return { ok: false, created: 0, updated: 0, errors: parsed.errors };
	const checked = checkRows(parsed.raw, parsed.rowNumber);
	if (!checked.ok) return { ok: false, created: 0, updated: 0, errors: checked.errors };
	const topicRows = await db
		.select({ id: topics.id, slug: topics.slug, examId: exams.id, exam: exams.slug })
		.from(topics)
		.innerJoin(exams, eq(exams.id, topics.examId));
	const topicOf = new Map(topicRows.map((t) => [`${t.exam}/${t.slug}`, t]));
	const examSlugs = new Set(topicRows.map((t) => t.exam));
	const errors: RowError[] = [];
	checked.rows.forEach((q, i) => {
		if (!topicOf.has(`${q.exam}/${q.topic}`))
			errors.push({
				row: parsed.rowNumber(i),
				ref: q.ref,
				message: examSlugs.has(q.exam)
					? `topic: exam "${q.exam}" has no topic "${q.topic}"`
					: `exam: there is no exam "${q.exam}"`
			});
	});
	if (errors.length) return { ok: false, created: 0, updated: 0, errors };
	return db.transaction(async (tx) => {
		const refs = checked.rows.map((q) => q.ref);
		const existing = new Set(
			(
				await tx.select({ ref: questions.ref }).from(questions).where(inArray(questions.ref, refs))
			).map((r) => r.ref)
		);
		await upsertQuestions(tx, checked.rows, (q) => topicOf.get(`${q.exam}/${q.topic}`)!);
		const updated = refs.filter((r) => existing.has(r)).length;
		return { ok: true, created: refs.length - updated, updated, errors: [] };
	});
}

function columns(q: QuestionInput) {
	return {
		kind: q.kind,
		difficulty: q.difficulty,
		prompt: q.prompt,
		code: q.code,
		options: q.kind === 'single' || q.kind === 'multiple' ? q.options : [],
		answer:
			q.kind === 'code' || q.answer === null
				? null
				: {
						key:
							q.kind === 'multiple' && Array.isArray(q.answer)
								? [...(q.answer as number[])].sort((a, b) => a - b)
								: q.answer
					},
		pattern: q.kind === 'short' ? q.pattern || null : null,
		starterCode: q.kind === 'code' ? q.starterCode : '',
		solutionCode: q.kind === 'code' ? q.solutionCode : '',
		checks: q.kind === 'code' ? q.checks : '',
		explanation: q.explanation
	};
}

async function upsertQuestions(
	db: Db,
	rows: QuestionInput[],
	topicOf: (q: QuestionInput) => { id: string; examId: string }
) {
	for (const q of rows) {
		const topic = topicOf(q);
		const values = {
			...columns(q),
			examId: topic.examId,
			topicId: topic.id,
			updatedAt: new Date()
		};
		await db
			.insert(questions)
			.values({ ref: q.ref, ...values })
			.onConflictDoUpdate({ target: questions.ref, set: values });
	}
}

/** A question back in its file shape (for export and the editor). */
export function toInput(q: Question, exam: string, topic: string): QuestionInput {
	return {
		ref: q.ref,
		exam,
		topic,
		kind: q.kind,
		difficulty: q.difficulty,
		prompt: q.prompt,
		code: q.code,
		options: q.options,
		answer: q.answer?.key ?? null,
		pattern: q.pattern,
		starterCode: q.starterCode,
		solutionCode: q.solutionCode,
		checks: q.checks,
		explanation: q.explanation
	};
}

export async function exportQuestions(
	db: Db,
	filter: { exam?: string } = {}
): Promise<QuestionInput[]> {
	const rows = await db
		.select({ q: questions, exam: exams.slug, topic: topics.slug })
		.from(questions)
		.innerJoin(exams, eq(exams.id, questions.examId))
		.innerJoin(topics, eq(topics.id, questions.topicId))
		.where(filter.exam ? eq(exams.slug, filter.exam) : undefined)
		.orderBy(asc(exams.position), asc(topics.position), asc(questions.ref));
	return rows.map((r) => toInput(r.q, r.exam, r.topic));
}

export function toCsv(rows: QuestionInput[]): string {
	return formatCsv([
		[...CSV_COLUMNS],
		...rows.map((q) =>
			CSV_COLUMNS.map((c) => {
				const value = q[c];
				if (JSON_COLUMNS.has(c))
					return value === null || (Array.isArray(value) && !value.length && c === 'options')
						? ''
						: JSON.stringify(value);
				if (value === null || value === undefined) return '';
				return String(value);
			})
		)
	]);
}

// ------------------------------------------------------------------ the bank files

const ExamFile = v.object({
	exam: v.object({
		slug: Slug,
		title: Required(200),
		description: v.optional(Text(2000), ''),
		mockQuestions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200)), 20),
		mockMinutes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(600)), 30),
		passPercent: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100)), 70)
	}),
	topics: v.pipe(
		v.array(v.object({ slug: Slug, title: Required(200), area: Slug })),
		v.minLength(1)
	),
	questions: v.array(v.record(v.string(), v.unknown()))
});
export type ExamFile = {
	exam: v.InferOutput<typeof ExamFile>['exam'];
	topics: v.InferOutput<typeof ExamFile>['topics'];
	questions: QuestionInput[];
};

/** Reads and checks every `*.yaml` (or `.json`) exam file in a folder; throws naming each problem. */
export async function readBankDir(dir: string): Promise<ExamFile[]> {
	const names = (await readdir(dir)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
	const files: ExamFile[] = [];
	const problems: string[] = [];
	for (const name of names) {
		const text = await readFile(path.join(dir, name), 'utf8');
		let data: unknown;
		try {
			data = name.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
		} catch (error) {
			problems.push(`${name}: ${(error as Error).message}`);
			continue;
		}
		const parsed = v.safeParse(ExamFile, data);
		if (!parsed.success) {
			problems.push(...parsed.issues.map((i) => `${name}: ${v.getDotPath(i)}: ${i.message}`));
			continue;
		}
		const f = parsed.output;
		const raw = f.questions.map((q) => ({ exam: f.exam.slug, ...q }));
		const checked = checkRows(raw);
		if (!checked.ok) {
			problems.push(
				...checked.errors.map((e) => `${name}: question ${e.row} (${e.ref}): ${e.message}`)
			);
			continue;
		}
		const slugs = new Set(f.topics.map((t) => t.slug));
		for (const q of checked.rows)
			if (!slugs.has(q.topic)) problems.push(`${name}: ${q.ref}: unknown topic "${q.topic}"`);
		files.push({ exam: f.exam, topics: f.topics, questions: checked.rows });
	}
	if (problems.length) throw new Error(`question bank is invalid:\n  ${problems.join('\n  ')}`);
	return files;
}

/** Writes exam files (exams and topics by slug, questions by ref) in one transaction. */
export async function importBank(db: Db, files: ExamFile[]) {
	let count = 0;
	await db.transaction(async (tx) => {
		for (const [i, f] of files.entries()) {
			const examValues = { ...f.exam, position: i, updatedAt: new Date() };
			const [exam] = await tx
				.insert(exams)
				.values(examValues)
				.onConflictDoUpdate({ target: exams.slug, set: examValues })
				.returning({ id: exams.id });
			const topicIds = new Map<string, string>();
			for (const [j, t] of f.topics.entries()) {
				const [topic] = await tx
					.insert(topics)
					.values({ examId: exam!.id, ...t, position: j })
					.onConflictDoUpdate({
						target: [topics.examId, topics.slug],
						set: { title: t.title, area: t.area, position: j }
					})
					.returning({ id: topics.id });
				topicIds.set(t.slug, topic!.id);
			}
			await upsertQuestions(tx, f.questions, (q) => ({
				id: topicIds.get(q.topic)!,
				examId: exam!.id
			}));
			count += f.questions.length;
		}
	});
	return { exams: files.length, questions: count };
}

/**
 * Loads `content/questions/` the first time a server starts with no exams. Replicas starting
 * together take turns on an advisory lock, and only the first finds the bank empty.
 */
export async function seedQuestionBank(db: Db, dir: string) {
	if (!dir || !existsSync(dir)) return null;
	const files = await readBankDir(dir);
	return db.transaction(async (tx) => {
		await tx.execute(sql`select pg_advisory_xact_lock(72011006)`);
		const [any] = await tx.select({ id: exams.id }).from(exams).limit(1);
		if (any) return null;
		const summary = await importBank(tx, files);
		logger().info(summary, 'question bank loaded');
		return summary;
	});
}
