import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import * as questions from '#lib/server/practice/questions.ts';
import * as review from '#lib/server/practice/review.ts';
import { questionView } from '#lib/server/practice/view.ts';
import type { RequestHandler } from './$types';

const Uuids = v.pipe(v.array(v.pipe(v.string(), v.uuid())), v.maxLength(500));
const ids = (value: string | null) => (value ? value.split(',').filter(Boolean) : []);

/**
 * The next question of a practice or review session (no answer key), or null when none is left or
 * the day's review cap is reached (`capped` then holds the cap).
 */
export const GET: RequestHandler = async ({ locals, url }) => {
	const mode = url.searchParams.get('mode') === 'review' ? 'review' : 'practice';
	const topicIds = v.safeParse(Uuids, ids(url.searchParams.get('topics')));
	const exclude = v.safeParse(Uuids, ids(url.searchParams.get('exclude')));
	if (!topicIds.success || !exclude.success) error(400, 'Topics and seen questions must be ids.');
	const db = locals.services.database.db;
	const userId = locals.user!.id;
	const slug = url.searchParams.get('exam');
	const exam = slug ? await questions.examBySlug(db, slug) : null;
	if (slug && !exam) error(404, 'There is no such exam.');
	const left =
		mode === 'review'
			? await review.allowance(db, userId, locals.services.config.practice.reviewDailyLimit)
			: null;
	const due = await questions.dueCount(db, userId, exam?.id);
	// Past the daily review cap, the queue waits until tomorrow (what is due stays due).
	if (left && !left.left) return json({ question: null, due, capped: left.limit });
	const [next] = await questions.pick(db, userId, {
		examId: exam?.id,
		topicIds: topicIds.output,
		exclude: exclude.output,
		mode,
		limit: 1
	});
	return json({
		question: next ? questionView(next.question, next.topic) : null,
		due,
		capped: null,
		reviewsLeft: left?.left ?? null
	});
};
