/**
 * Importing questions from a JSON or CSV file. An import is all or nothing: every row is checked
 * first (shape, kind rules, known exam and topic, no duplicate refs), and a file with any bad row
 * changes nothing; the report names each bad row and why.
 *
 * @example
 * const report = await importQuestions(db, parseJsonRows(text));
 * if (!report.ok) for (const e of report.errors) console.log(`row ${e.row}: ${e.message}`);
 */
import { eq, inArray } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { exams, questions, topics } from '#lib/server/db/schema.ts';
import {
	checkRows,
	storedKey,
	type Parsed,
	type QuestionInput,
	type RowError
} from './question-input';

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

/** A question's stored columns: fields its kind does not use are blanked, option numbers stored from 0, multiple-choice keys sorted. */
function columns(q: QuestionInput) {
	return {
		kind: q.kind,
		difficulty: q.difficulty,
		prompt: q.prompt,
		code: q.code,
		options: q.kind === 'single' || q.kind === 'multiple' ? q.options : [],
		answer: storedKey(q),
		pattern: q.kind === 'short' ? q.pattern || null : null,
		starterCode: q.kind === 'code' ? q.starterCode : '',
		solutionCode: q.kind === 'code' ? q.solutionCode : '',
		checks: q.kind === 'code' ? q.checks : '',
		explanation: q.explanation
	};
}

/** Inserts or updates questions by ref; the caller resolves each one's exam and topic ids. */
export async function upsertQuestions(
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
