/**
 * The question bank in the admin console: a filtered, paginated list; one question to edit; create,
 * update and delete with the same validation as imports.
 *
 * @example
 * const page = await listQuestions(db, { exam: 'python-entry', page: 2 });
 */
import { and, asc, count, eq, ilike, or } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { exams, questions, topics, type QuestionKind } from '#lib/server/db/schema.ts';
import { toInput } from './question-export';
import { checkRows, storedKey, type QuestionInput, type RowError } from './question-input';

export const ADMIN_PAGE_SIZE = 25;

export interface QuestionFilter {
	exam?: string;
	topic?: string;
	kind?: QuestionKind;
	q?: string;
	page?: number;
}

export async function listQuestions(db: Db, filter: QuestionFilter) {
	const page = Math.max(1, filter.page ?? 1);
	const search = filter.q?.trim();
	const where = and(
		filter.exam ? eq(exams.slug, filter.exam) : undefined,
		filter.topic ? eq(topics.id, filter.topic) : undefined,
		filter.kind ? eq(questions.kind, filter.kind) : undefined,
		search
			? or(
					ilike(questions.prompt, `%${search.replace(/[%_\\]/g, '\\$&')}%`),
					ilike(questions.ref, `%${search.replace(/[%_\\]/g, '\\$&')}%`)
				)
			: undefined
	);
	const [rows, [total]] = await Promise.all([
		db
			.select({
				id: questions.id,
				ref: questions.ref,
				kind: questions.kind,
				difficulty: questions.difficulty,
				prompt: questions.prompt,
				exam: exams.title,
				topic: topics.title
			})
			.from(questions)
			.innerJoin(exams, eq(exams.id, questions.examId))
			.innerJoin(topics, eq(topics.id, questions.topicId))
			.where(where)
			.orderBy(asc(exams.position), asc(topics.position), asc(questions.ref))
			.limit(ADMIN_PAGE_SIZE)
			.offset((page - 1) * ADMIN_PAGE_SIZE),
		db
			.select({ n: count() })
			.from(questions)
			.innerJoin(exams, eq(exams.id, questions.examId))
			.innerJoin(topics, eq(topics.id, questions.topicId))
			.where(where)
	]);
	return { rows, total: Number(total?.n ?? 0), page, pageSize: ADMIN_PAGE_SIZE };
}

/** Every exam with its topics, for filters and the editor's topic picker. */
export async function examsAndTopics(db: Db) {
	const rows = await db
		.select({
			exam: exams.slug,
			examTitle: exams.title,
			topicId: topics.id,
			topic: topics.slug,
			topicTitle: topics.title
		})
		.from(topics)
		.innerJoin(exams, eq(exams.id, topics.examId))
		.orderBy(asc(exams.position), asc(topics.position));
	return rows;
}

export async function getQuestion(db: Db, id: string) {
	const [row] = await db
		.select({ q: questions, exam: exams.slug, topic: topics.slug })
		.from(questions)
		.innerJoin(exams, eq(exams.id, questions.examId))
		.innerJoin(topics, eq(topics.id, questions.topicId))
		.where(eq(questions.id, id));
	return row ? { id: row.q.id, input: toInput(row.q, row.exam, row.topic) } : null;
}

export type SaveResult = { ok: true; id: string } | { ok: false; errors: string[] };

/** Creates (id null) or updates a question; the ref must stay unique. */
export async function saveQuestion(db: Db, id: string | null, raw: unknown): Promise<SaveResult> {
	const checked = checkRows([raw]);
	if (!checked.ok) return { ok: false, errors: messages(checked.errors) };
	const q = checked.rows[0]!;
	const [topic] = await db
		.select({ id: topics.id, examId: exams.id })
		.from(topics)
		.innerJoin(exams, eq(exams.id, topics.examId))
		.where(and(eq(exams.slug, q.exam), eq(topics.slug, q.topic)));
	if (!topic) return { ok: false, errors: ['topic: choose an existing exam topic'] };
	const [clash] = await db
		.select({ id: questions.id })
		.from(questions)
		.where(eq(questions.ref, q.ref));
	if (clash && clash.id !== id)
		return { ok: false, errors: [`ref: "${q.ref}" is already used by another question`] };
	const values = {
		...columnsOf(q),
		examId: topic.examId,
		topicId: topic.id,
		updatedAt: new Date()
	};
	if (id) {
		const [updated] = await db
			.update(questions)
			.set(values)
			.where(eq(questions.id, id))
			.returning({ id: questions.id });
		if (!updated) return { ok: false, errors: ['this question no longer exists'] };
		return { ok: true, id: updated.id };
	}
	const [created] = await db.insert(questions).values(values).returning({ id: questions.id });
	return { ok: true, id: created!.id };
}

function columnsOf(q: QuestionInput) {
	const choice = q.kind === 'single' || q.kind === 'multiple';
	return {
		ref: q.ref,
		kind: q.kind,
		difficulty: q.difficulty,
		prompt: q.prompt,
		code: q.code,
		options: choice ? q.options : [],
		answer: storedKey(q),
		pattern: q.kind === 'short' ? q.pattern || null : null,
		starterCode: q.kind === 'code' ? q.starterCode : '',
		solutionCode: q.kind === 'code' ? q.solutionCode : '',
		checks: q.kind === 'code' ? q.checks : '',
		explanation: q.explanation
	};
}

function messages(errors: RowError[]) {
	return errors.flatMap((e) => e.message.split('; '));
}

export async function deleteQuestion(db: Db, id: string) {
	const gone = await db
		.delete(questions)
		.where(eq(questions.id, id))
		.returning({ ref: questions.ref });
	return gone[0]?.ref ?? null;
}
