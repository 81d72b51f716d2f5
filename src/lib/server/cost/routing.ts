/**
 * Cheaper-model routing. A simple question goes to the provider's cheaper model (Claude Haiku,
 * GPT-4.1 nano, Gemini Flash-Lite, or LLM_CHEAP_MODEL); everything else to the main model.
 *
 * The rule (switch it off with LLM_ROUTING=false or in the console's Budgets page). A question is
 * simple when it is a new question (not a "continue" or a "regenerate": a student who asks again
 * wants the stronger model), short (at most 200 characters on one or two lines) with no code in
 * it, and what it is about is simple too:
 * - the student's own work (code changed from the starter, or an error): only an error whose
 *   message names the problem and where it is (SyntaxError, IndentationError, TabError,
 *   NameError, UnboundLocalError, ZeroDivisionError, ModuleNotFoundError) in code of at most 20
 *   lines. Type, value, index and key errors, wrong output without an error, and longer code
 *   need reasoning about the program and go to the main model;
 * - a practice question answered with one of its options: its right answer and explanation are
 *   already known, so "why is my answer wrong" is an explanation, not debugging;
 * - anything else: a conceptual question, unless it talks about debugging (error, bug, wrong,
 *   fix, fails, traceback, exception, crash, broken, stuck, "doesn't work").
 *
 * @example
 * const { model } = chooseModel({ question: 'What is a list?', context, settings, mainModel, fresh: true });
 */
import type { TutorContext } from '#lib/server/tutor/prompt.ts';
import { hasOwnWork } from './cache';
import type { CostSettings } from './settings';

export const SIMPLE_MAX_CHARS = 200;
export const SIMPLE_MAX_CODE_LINES = 20;
const DEBUGGING =
	/\b(error|errors|bug|bugs|debug|wrong|fix|fails?|failing|crash(es|ed)?|traceback|exception|broken|doesn'?t work|not working|stuck)\b/i;
const CODE = /```|^\s{2,}\S|\b(def|class|import|return|print)\b.*[:(]|[=<>]=|\w+\(.*\)/m;
/** Errors whose message says what is wrong and where. */
const SELF_EXPLAINING = new Set([
	'SyntaxError',
	'IndentationError',
	'TabError',
	'NameError',
	'UnboundLocalError',
	'ZeroDivisionError',
	'ModuleNotFoundError'
]);

/** The exception class a Python error message or traceback ends with, if any. */
export function errorKind(error: string): string | null {
	const last = error.trim().split('\n').at(-1) ?? '';
	return last.match(/^\s*(?:[\w.]+\.)?(\w+(?:Error|Exception|Interrupt|Exit))\b/)?.[1] ?? null;
}

/** What a question is about: the conversation's context and the exercise's starter code. */
export interface QuestionSubject {
	context: TutorContext | null;
	starterCode?: string | null;
}

/** Whether the question is simple by the rule above. */
export function isSimpleQuestion(question: string, subject: QuestionSubject): boolean {
	const text = question.trim();
	if (!text || text.length > SIMPLE_MAX_CHARS) return false;
	if (text.split('\n').length > 2) return false;
	if (CODE.test(text)) return false;
	const c = subject.context;
	if (hasOwnWork(c, subject.starterCode)) {
		const kind = c?.lastError ? errorKind(c.lastError) : null;
		const lines = (c?.code ?? '').trim().split('\n').length;
		return Boolean(kind && SELF_EXPLAINING.has(kind) && lines <= SIMPLE_MAX_CODE_LINES);
	}
	if (c?.practice) return (c.practice.options ?? []).includes(c.practice.given);
	return !DEBUGGING.test(text);
}

/** The model for this question, and whether routing picked the cheaper one. */
export function chooseModel(
	input: QuestionSubject & {
		question: string;
		settings: Pick<CostSettings, 'routingEnabled' | 'cheapModel'>;
		mainModel: string;
		/** continue and regenerate keep the main model */
		fresh: boolean;
	}
): { model: string; routed: boolean } {
	const cheap = input.settings.cheapModel.trim();
	if (
		input.fresh &&
		input.settings.routingEnabled &&
		cheap &&
		cheap !== input.mainModel &&
		isSimpleQuestion(input.question, input)
	)
		return { model: cheap, routed: true };
	return { model: input.mainModel, routed: false };
}
