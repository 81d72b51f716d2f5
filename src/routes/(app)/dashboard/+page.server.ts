import * as course from '#lib/server/learn/course.ts';
import { dueCount } from '#lib/server/practice/questions.ts';
import { areaTitle, levelsOf, listAreas } from '#lib/server/practice/diagnostic.ts';
import { allowance } from '#lib/server/practice/review.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const db = locals.services.database.db;
	const [modules, next, due, levels, areas, reviews] = await Promise.all([
		course.listModules(db, locals.user!.id),
		course.continueLesson(db, locals.user!.id),
		dueCount(db, locals.user!.id),
		levelsOf(db, locals.user!.id),
		listAreas(db),
		allowance(db, locals.user!.id, locals.services.config.practice.reviewDailyLimit)
	]);
	const assessed = new Set(levels.map((l) => l.area));
	const total = (key: 'lessons' | 'lessonsDone' | 'exercises' | 'exercisesPassed') =>
		modules.reduce((n, m) => n + m[key], 0);
	return {
		practice: {
			due,
			/** Today's review cap is reached: the due questions wait for tomorrow. */
			reviewsDone: reviews.left === 0,
			levels: levels.map((l) => ({ area: areaTitle(l.area), level: l.level })),
			// The first skill area without a level: the diagnostic the card offers.
			diagnostic:
				areas
					.filter((a) => !assessed.has(a))
					.slice(0, 1)
					.map((a) => ({ area: a, title: areaTitle(a) }))[0] ?? null
		},
		next,
		modules: modules.map((m) => ({
			slug: m.slug,
			title: m.title,
			lessons: m.lessons,
			lessonsDone: m.lessonsDone
		})),
		totals: {
			lessons: total('lessons'),
			lessonsDone: total('lessonsDone'),
			exercises: total('exercises'),
			exercisesPassed: total('exercisesPassed')
		}
	};
};
