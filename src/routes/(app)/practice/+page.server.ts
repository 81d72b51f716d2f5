import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as questions from '#lib/server/practice/questions.ts';
import { MockError, listMocks, startMock } from '#lib/server/practice/mock.ts';
import * as diagnostic from '#lib/server/practice/diagnostic.ts';
import { allowance } from '#lib/server/practice/review.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const db = locals.services.database.db;
	const userId = locals.user!.id;
	const [exams, due, levels, areas, mocks, reviews] = await Promise.all([
		questions.listExams(db),
		questions.dueCount(db, userId),
		diagnostic.levelsOf(db, userId),
		diagnostic.listAreas(db),
		listMocks(db, userId, 1, 5),
		allowance(db, userId, locals.services.config.practice.reviewDailyLimit)
	]);
	return {
		exams: exams.map((e) => ({
			slug: e.slug,
			title: e.title,
			description: e.description,
			mockQuestions: e.mockQuestions,
			mockMinutes: e.mockMinutes,
			questions: e.questions,
			topics: e.topics.map((t) => ({ id: t.id, title: t.title, questions: t.questions }))
		})),
		due,
		reviews: { done: reviews.done, limit: reviews.limit, left: reviews.left },
		areas: areas.map((area) => ({
			area,
			title: diagnostic.areaTitle(area),
			level: levels.find((l) => l.area === area)?.level ?? null
		})),
		mocks: mocks.rows.map((m) => ({
			id: m.id,
			exam: exams.find((e) => e.id === m.examId)?.title ?? '',
			startedAt: m.startedAt.toISOString(),
			submitted: !!m.submittedAt,
			score: m.score,
			total: m.total
		})),
		diagnosticLength: diagnostic.DIAGNOSTIC_LENGTH
	};
};

const Slug = v.pipe(v.string(), v.regex(/^[a-z0-9-]{1,80}$/));

export const actions: Actions = {
	mock: async ({ locals, request }) => {
		const form = await readForm(request);
		if (!form.ok) return fail(form.status, { message: form.message });
		const slug = form.data.get('exam');
		if (!v.is(Slug, slug)) return fail(400, { message: 'Choose an exam for the mock exam.' });
		const db = locals.services.database.db;
		const exam = await questions.examBySlug(db, slug);
		if (!exam) return fail(404, { message: 'There is no such exam.' });
		let id: string;
		try {
			id = (await startMock(db, locals.user!.id, exam)).id;
		} catch (e) {
			if (e instanceof MockError) return fail(e.status, { message: e.message });
			throw e;
		}
		redirect(303, `/practice/mock/${id}`);
	},
	diagnostic: async ({ locals, request }) => {
		const form = await readForm(request);
		if (!form.ok) return fail(form.status, { message: form.message });
		const area = form.data.get('area');
		if (!v.is(Slug, area)) return fail(400, { message: 'Choose a skill area.' });
		const started = await diagnostic.startDiagnostic(
			locals.services.database.db,
			locals.user!.id,
			area
		);
		if (!started) return fail(404, { message: 'There are no questions in that skill area yet.' });
		redirect(303, `/practice/diagnostic/${started.id}`);
	}
};
