/**
 * Questions and feedback as the browser receives them: markdown rendered, no answer key before the
 * student has answered.
 */
import type { Question } from '#lib/server/db/schema.ts';
import type { Feedback, QuestionView } from '#lib/practice/types.ts';
import { renderMarkdown } from '#lib/tutor/markdown.ts';
import { expectedText, keyOf } from './grade';

export function questionView(q: Question, topic: string): QuestionView {
	return {
		id: q.id,
		kind: q.kind,
		difficulty: q.difficulty,
		topic,
		promptHtml: renderMarkdown(q.prompt),
		code: q.code,
		options: q.options,
		starterCode: q.kind === 'code' ? q.starterCode : '',
		checks: q.kind === 'code' ? q.checks : ''
	};
}

export function expectedChoices(q: Question): number[] {
	const key = keyOf(q);
	if (q.kind === 'single') return [key as number];
	if (q.kind === 'multiple') return key as number[];
	return [];
}

export function feedbackView(
	q: Question,
	result: { answerId: string; correct: boolean; nextReview: Date; dueCount: number }
): Feedback {
	return {
		answerId: result.answerId,
		correct: result.correct,
		expectedChoices: expectedChoices(q),
		expectedText: expectedText(q),
		explanationHtml: renderMarkdown(q.explanation),
		nextReview: result.nextReview.toISOString(),
		dueCount: result.dueCount
	};
}
