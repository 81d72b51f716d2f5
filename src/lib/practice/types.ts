/**
 * What the practice pages and the practice API exchange. Shared by browser and server; the answer
 * key never appears in `QuestionView` (only in a `Feedback`, after the student answered).
 */
export type QuestionKind = 'single' | 'multiple' | 'short' | 'output' | 'code';

export interface QuestionView {
	id: string;
	kind: QuestionKind;
	difficulty: number;
	topic: string;
	/** The prompt rendered from markdown (safe HTML). */
	promptHtml: string;
	code: string;
	options: string[];
	starterCode: string;
	checks: string;
}

/** The answer the browser sends; which field counts depends on the kind. */
export interface GivenAnswer {
	choice?: number;
	choices?: number[];
	text?: string;
	code?: string;
	passed?: boolean;
	failed?: string[];
}

/** The ratings a review answer is rated with, in button order (FSRS Again, Hard, Good, Easy). */
export const RATINGS = ['again', 'hard', 'good', 'easy'] as const;
export type RatingName = (typeof RATINGS)[number];
export const RATING_LABELS: Record<RatingName, string> = {
	again: 'Again',
	hard: 'Hard',
	good: 'Good',
	easy: 'Easy'
};

export interface Feedback {
	answerId: string;
	correct: boolean;
	/** The right option indexes (choice questions) or the right answer as text. */
	expectedChoices: number[];
	expectedText: string;
	explanationHtml: string;
	/** When this question comes up for review next (ISO time); null while a review awaits its rating. */
	nextReview: string | null;
	dueCount: number;
	/** Review answers: when the question would come back after each rating (ISO times). */
	ratings: Record<RatingName, string> | null;
	/** Review answers: the rating the answer itself suggests (wrong: Again; quick: Easy). */
	suggested: RatingName | null;
	/** Write-code questions: the checks that failed, and the reference solution (after the attempt). */
	failedChecks: string[];
	reference: string;
}

export const KIND_LABELS: Record<QuestionKind, string> = {
	single: 'Choose one',
	multiple: 'Choose all that apply',
	short: 'Short answer',
	output: 'Predict the output',
	code: 'Write code'
};

export const DIFFICULTY_LABELS = ['', 'Easy', 'Medium', 'Hard'] as const;

/** True when the answer says something (so Submit makes sense). */
export function hasAnswer(kind: QuestionKind, given: GivenAnswer) {
	switch (kind) {
		case 'single':
			return given.choice !== undefined;
		case 'multiple':
			return (given.choices?.length ?? 0) > 0;
		case 'short':
		case 'output':
			return !!given.text?.trim();
		case 'code':
			return given.passed !== undefined;
	}
}

/** "in 3 days", "in 10 minutes": when a review comes round again. */
export function fromNow(iso: string, now = Date.now()) {
	const minutes = Math.round((Date.parse(iso) - now) / 60_000);
	if (minutes < 1) return 'now';
	if (minutes < 60) return `in ${minutes} minute${minutes === 1 ? '' : 's'}`;
	const hours = Math.round(minutes / 60);
	if (hours < 24) return `in ${hours} hour${hours === 1 ? '' : 's'}`;
	const days = Math.round(hours / 24);
	return `in ${days} day${days === 1 ? '' : 's'}`;
}
