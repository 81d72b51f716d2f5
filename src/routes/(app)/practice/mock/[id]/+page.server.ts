import { error, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { givenText, type Given } from '#lib/server/practice/grade.ts';
import * as mock from '#lib/server/practice/mock.ts';
import { expectedChoices, questionView } from '#lib/server/practice/view.ts';
import { expectedText } from '#lib/server/practice/grade.ts';
import { renderMarkdown } from '#lib/tutor/markdown.ts';
import { exams } from '#lib/server/db/schema.ts';
import { eq } from 'drizzle-orm';
import type { Actions, PageServerLoad } from './$types';

async function own(locals: App.Locals, id: string) {
	if (!v.is(v.pipe(v.string(), v.uuid()), id)) error(404, 'This mock exam does not exist.');
	const found = await mock.getMock(locals.services.database.db, locals.user!.id, id);
	if (!found) error(404, 'This mock exam does not exist.');
	return found;
}

export const load: PageServerLoad = async ({ locals, params }) => {
	const db = locals.services.database.db;
	const m = await own(locals, params.id);
	const [exam] = await db.select().from(exams).where(eq(exams.id, m.examId));
	const rows = await mock.mockReview(db, locals.user!.id, m);
	const base = {
		id: m.id,
		exam: {
			title: exam?.title ?? 'Exam',
			slug: exam?.slug ?? '',
			passPercent: exam?.passPercent ?? 70
		},
		total: m.total
	};
	if (!m.submittedAt)
		return {
			...base,
			state: 'running' as const,
			deadline: m.deadlineAt.toISOString(),
			serverNow: new Date().toISOString(),
			questions: rows.map((r) => questionView(r.question, r.topic)),
			responses: m.responses as Record<string, Given>
		};
	return {
		...base,
		state: 'done' as const,
		score: m.score ?? 0,
		timedOut: m.timedOut,
		submittedAt: m.submittedAt.toISOString(),
		unanswered: mock.unansweredCount(rows),
		review: rows.map((r) => ({
			question: questionView(r.question, r.topic),
			given: (r.answer?.given ?? {}) as Given,
			givenText: givenText(r.question, r.answer?.given as Given | null),
			correct: r.answer?.correct ?? false,
			unanswered: r.unanswered,
			answerId: null as string | null,
			feedback: {
				answerId: '',
				correct: r.answer?.correct ?? false,
				expectedChoices: expectedChoices(r.question),
				expectedText: expectedText(r.question),
				explanationHtml: renderMarkdown(r.question.explanation),
				nextReview: null,
				dueCount: 0,
				ratings: null,
				suggested: null,
				failedChecks: [],
				reference: ''
			}
		}))
	};
};

export const actions: Actions = {
	submit: async ({ locals, params }) => {
		const m = await own(locals, params.id);
		if (!m.submittedAt) await mock.submitMock(locals.services.database.db, locals.user!.id, m.id);
		redirect(303, `/practice/mock/${m.id}`);
	}
};
