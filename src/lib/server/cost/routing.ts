/**
 * Cheaper-model routing. A simple question goes to the provider's cheaper model (Claude Haiku,
 * GPT-4.1 nano, Gemini Flash-Lite, or LLM_CHEAP_MODEL); everything else to the main model.
 *
 * The rule (switch it off with LLM_ROUTING=false or in the console's Budgets page): a question is
 * simple when it is a short conceptual question (at most 200 characters, one or two lines), has no
 * code in it, the student's own code or error is not part of the context, it does not talk about
 * debugging (error, bug, wrong, fix, fails, traceback...), and it is a new question rather than a
 * "continue" or a "regenerate" (a student who asks again wants the stronger model).
 *
 * @example
 * const { model } = chooseModel({ question: 'What is a list?', ownWork: false, settings, mainModel, fresh: true });
 */
import type { CostSettings } from './settings';

export const SIMPLE_MAX_CHARS = 200;
const DEBUGGING =
	/\b(error|errors|bug|bugs|debug|wrong|fix|fails?|failing|crash(es|ed)?|traceback|exception|broken|doesn'?t work|not working|stuck)\b/i;
const CODE = /```|^\s{2,}\S|\b(def|class|import|return|print)\b.*[:(]|[=<>]=|\w+\(.*\)/m;

/** Whether the question is simple by the rule above. */
export function isSimpleQuestion(question: string, ownWork: boolean): boolean {
	const text = question.trim();
	if (!text || text.length > SIMPLE_MAX_CHARS) return false;
	if (text.split('\n').length > 2) return false;
	if (CODE.test(text) || DEBUGGING.test(text)) return false;
	return !ownWork;
}

/** The model for this question, and whether routing picked the cheaper one. */
export function chooseModel(input: {
	question: string;
	/** The context carries the student's own code (changed from the starter) or an error. */
	ownWork: boolean;
	settings: Pick<CostSettings, 'routingEnabled' | 'cheapModel'>;
	mainModel: string;
	/** continue and regenerate keep the main model */
	fresh: boolean;
}): { model: string; routed: boolean } {
	const cheap = input.settings.cheapModel.trim();
	if (
		input.fresh &&
		input.settings.routingEnabled &&
		cheap &&
		cheap !== input.mainModel &&
		isSimpleQuestion(input.question, input.ownWork)
	)
		return { model: cheap, routed: true };
	return { model: input.mainModel, routed: false };
}
