/**
 * Questions and feedback as the browser receives them: markdown rendered, no answer key before the
 * student has answered.
 */
import type { Question } from '#lib/server/db/schema.ts';
import type { Feedback, QuestionView, RatingName } from '#lib/practice/types.ts';
import { renderMarkdown } from '#lib/tutor/markdown.ts';
import { expectedText, keyOf, type Given } from './grade';

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
	result: {
		answerId: string;
		correct: boolean;
		nextReview: Date | null;
		dueCount: number;
		given?: Given;
		ratings?: Record<RatingName, Date> | null;
		suggested?: RatingName | null;
	}
): Feedback {
	const ratings = result.ratings
		? (Object.fromEntries(
				Object.entries(result.ratings).map(([name, due]) => [name, due.toISOString()])
			) as Record<RatingName, string>)
		: null;
	return {
		answerId: result.answerId,
		correct: result.correct,
		expectedChoices: expectedChoices(q),
		expectedText: expectedText(q),
		explanationHtml: renderMarkdown(q.explanation),
		nextReview: result.nextReview?.toISOString() ?? null,
		dueCount: result.dueCount,
		ratings,
		suggested: result.suggested ?? null,
		failedChecks: q.kind === 'code' && !result.correct ? (result.given?.failed ?? []) : [],
		// Shown once the student has made an attempt, which this feedback is.
		reference: q.kind === 'code' ? q.solutionCode : ''
	};
}
