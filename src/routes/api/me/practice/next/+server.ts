import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import * as questions from '#lib/server/practice/questions.ts';
import { questionView } from '#lib/server/practice/view.ts';
import type { RequestHandler } from './$types';

const Uuids = v.pipe(v.array(v.pipe(v.string(), v.uuid())), v.maxLength(500));
const ids = (value: string | null) => (value ? value.split(',').filter(Boolean) : []);

/** The next question of a practice or review session (no answer key), or null when none is left. */
export const GET: RequestHandler = async ({ locals, url }) => {
	const mode = url.searchParams.get('mode') === 'review' ? 'review' : 'practice';
	const topicIds = v.safeParse(Uuids, ids(url.searchParams.get('topics')));
	const exclude = v.safeParse(Uuids, ids(url.searchParams.get('exclude')));
	if (!topicIds.success || !exclude.success) error(400, 'Topics and seen questions must be ids.');
	const db = locals.services.database.db;
	const slug = url.searchParams.get('exam');
	const exam = slug ? await questions.examBySlug(db, slug) : null;
	if (slug && !exam) error(404, 'There is no such exam.');
	const [next] = await questions.pick(db, locals.user!.id, {
		examId: exam?.id,
		topicIds: topicIds.output,
		exclude: exclude.output,
		mode,
		limit: 1
	});
	const due = await questions.dueCount(db, locals.user!.id, exam?.id);
	return json({ question: next ? questionView(next.question, next.topic) : null, due });
};
