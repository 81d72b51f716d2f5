/**
 * Server-side grading: what a student sent, checked against the key that never leaves the server.
 * Write-code questions are graded by running their checks on the code in the server's Python runner
 * (lib/server/python); the answers endpoint puts that verdict in `passed` before grading.
 *
 * @example
 * const { correct } = grade(question, { choice: 2 });
 */
import * as v from 'valibot';
import type { AnswerKey, Question } from '#lib/server/db/schema.ts';
import { normalizeOutput, normalizeShort } from './question-input';

/** What the browser sends as an answer; which field is used depends on the question's kind. */
export const Given = v.object({
	choice: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(20))),
	choices: v.optional(
		v.pipe(v.array(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(20))), v.maxLength(20))
	),
	text: v.optional(v.pipe(v.string(), v.maxLength(5000))),
	/** Write-code questions: the code, and whether every check passed (set by the server's own run). */
	code: v.optional(v.pipe(v.string(), v.maxLength(20_000))),
	passed: v.optional(v.boolean()),
	/** Write-code questions: what the checks that failed say (shown back in the feedback). */
	failed: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(500))), v.maxLength(50)))
});
export type Given = v.InferOutput<typeof Given>;

/**
 * True when a response says nothing for its question's kind (no choice, no text, checks not run).
 * A mock exam records such a question as unanswered, never as a wrong answer.
 */
export function isBlank(q: Pick<Question, 'kind'>, given: Given | null | undefined): boolean {
	if (!given) return true;
	switch (q.kind) {
		case 'single':
			return given.choice === undefined;
		case 'multiple':
			return !given.choices?.length;
		case 'short':
		case 'output':
			return !given.text?.trim();
		case 'code':
			return given.passed === undefined;
	}
}

/** The question's answer key (server only). */
export function keyOf(q: Question): AnswerKey | null {
	return q.answer?.key ?? null;
}

export function grade(q: Question, given: Given): { correct: boolean } {
	switch (q.kind) {
		case 'single':
			return { correct: given.choice !== undefined && given.choice === keyOf(q) };
		case 'multiple': {
			const key = [...((keyOf(q) as number[]) ?? [])].sort((a, b) => a - b);
			const got = [...new Set(given.choices ?? [])].sort((a, b) => a - b);
			return { correct: got.length === key.length && got.every((n, i) => n === key[i]) };
		}
		case 'short': {
			const text = normalizeShort(given.text ?? '');
			if (!text) return { correct: false };
			const accepted = ((keyOf(q) as string[]) ?? []).map(normalizeShort);
			if (accepted.includes(text)) return { correct: true };
			if (q.pattern) {
				try {
					return { correct: new RegExp(`^(?:${q.pattern})$`).test(text) };
				} catch {
					return { correct: false };
				}
			}
			return { correct: false };
		}
		case 'output':
			return {
				correct:
					given.text !== undefined &&
					normalizeOutput(given.text) === normalizeOutput(String(keyOf(q) ?? ''))
			};
		case 'code':
			return { correct: given.passed === true };
	}
}

/** The right answer, for showing after the student has answered (markdown-free text). */
export function expectedText(q: Question): string {
	switch (q.kind) {
		case 'single':
			return q.options[keyOf(q) as number] ?? '';
		case 'multiple':
			return ((keyOf(q) as number[]) ?? []).map((i) => q.options[i]).join('; ');
		case 'short':
			return ((keyOf(q) as string[]) ?? [])[0] ?? '';
		case 'output':
			return String(keyOf(q) ?? '');
		case 'code':
			return 'Code that passes every check.';
	}
}

/** What the student answered, as text (for the tutor and the review). */
export function givenText(q: Question, given: Given | null | undefined): string {
	if (!given) return '(no answer)';
	switch (q.kind) {
		case 'single':
			return given.choice === undefined
				? '(no answer)'
				: (q.options[given.choice] ?? '(no answer)');
		case 'multiple':
			return given.choices?.length
				? given.choices.map((i) => q.options[i] ?? '?').join('; ')
				: '(nothing selected)';
		case 'short':
		case 'output':
			return given.text?.trim() ? given.text : '(no answer)';
		case 'code':
			return given.code ?? '(no code)';
	}
}
