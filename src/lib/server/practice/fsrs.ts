/**
 * Spaced review with FSRS (the `ts-fsrs` library): every answer is a review of that question's
 * card. Wrong is `Again`; right is `Easy` when answered quickly and `Good` otherwise.
 *
 * @example
 * const next = nextCard(existingRowOrNull, { correct: true, timeMs: 4000 }, new Date());
 */
import { createEmptyCard, fsrs, Rating, type Card, type Grade } from 'ts-fsrs';
import type { ReviewCard } from '#lib/server/db/schema.ts';
import { RATINGS, type RatingName } from '#lib/practice/types.ts';

/**
 * A right answer given within this many milliseconds counts as Easy (recalled without effort);
 * slower right answers are Good. Write-code questions take longer by nature, so they never count
 * as Easy.
 */
export const EASY_WITHIN_MS = 12_000;

const scheduler = fsrs({ enable_fuzz: false });

export function ratingFor(answer: { correct: boolean; timeMs: number; kind?: string }): Grade {
	if (!answer.correct) return Rating.Again;
	if (answer.kind !== 'code' && answer.timeMs > 0 && answer.timeMs <= EASY_WITHIN_MS)
		return Rating.Easy;
	return Rating.Good;
}

type CardColumns = Omit<ReviewCard, 'userId' | 'questionId'>;

function toCard(row: CardColumns | null, now: Date): Card {
	if (!row) return createEmptyCard(now);
	return {
		due: row.due,
		stability: row.stability,
		difficulty: row.difficulty,
		elapsed_days: row.elapsedDays,
		scheduled_days: row.scheduledDays,
		learning_steps: row.learningSteps,
		reps: row.reps,
		lapses: row.lapses,
		state: row.state,
		last_review: row.lastReview ?? undefined
	};
}

/** The card after this answer, as table columns. */
export function nextCard(
	row: CardColumns | null,
	answer: { correct: boolean; timeMs: number; kind?: string },
	now: Date
): CardColumns {
	return cardAfter(row, ratingFor(answer), now);
}

const GRADES: Record<RatingName, Grade> = {
	again: Rating.Again,
	hard: Rating.Hard,
	good: Rating.Good,
	easy: Rating.Easy
};
export const ratingName = (grade: Grade) => RATINGS[grade - 1]!;

/** When the card would come due after each rating: what the review buttons show before a pick. */
export function previewDue(row: CardColumns | null, now: Date): Record<RatingName, Date> {
	const card = toCard(row, now);
	return Object.fromEntries(
		RATINGS.map((name) => [name, scheduler.next(card, now, GRADES[name]).card.due])
	) as Record<RatingName, Date>;
}

/** The card after a review with the student's own rating, as table columns. */
export function cardAfter(
	row: CardColumns | null,
	rating: RatingName | Grade,
	now: Date
): CardColumns {
	const grade = typeof rating === 'string' ? GRADES[rating] : rating;
	const { card } = scheduler.next(toCard(row, now), now, grade);
	return {
		due: card.due,
		stability: card.stability,
		difficulty: card.difficulty,
		elapsedDays: card.elapsed_days,
		scheduledDays: card.scheduled_days,
		learningSteps: card.learning_steps,
		reps: card.reps,
		lapses: card.lapses,
		state: card.state,
		lastReview: card.last_review ?? now
	};
}
