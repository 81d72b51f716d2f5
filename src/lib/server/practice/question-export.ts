/**
 * Questions read back out of the database in their file shape, for export and the editor.
 *
 * @example
 * const rows = await exportQuestions(db, { exam: 'pcep' }); // QuestionInput[], by exam and topic
 */
import { asc, eq } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { exams, questions, topics, type Question } from '#lib/server/db/schema.ts';
import { authoredAnswer, type QuestionInput } from './question-input';

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
		answer: authoredAnswer(q.kind, q.answer?.key),
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
