import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as questions from '#lib/server/practice/questions.ts';
import { askAboutAnswer } from '#lib/server/learn/tutor-context.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

const Uuid = v.pipe(v.string(), v.uuid());

export const load: PageServerLoad = async ({ locals, url }) => {
	const db = locals.services.database.db;
	const mode = url.searchParams.get('mode') === 'review' ? 'review' : 'practice';
	const slug = url.searchParams.get('exam');
	const exams = await questions.listExams(db);
	const exam = slug ? exams.find((e) => e.slug === slug) : null;
	if (slug && !exam) error(404, 'There is no such exam.');
	const topicIds = url.searchParams.getAll('topics');
	if (!topicIds.every((id) => v.is(Uuid, id))) error(400, 'Those topics could not be read.');
	const topics = exam ? exam.topics.filter((t) => topicIds.includes(t.id)) : [];
	return {
		mode,
		exam: exam ? { slug: exam.slug, title: exam.title } : null,
		topics: topics.map((t) => ({ id: t.id, title: t.title }))
	};
};

export const actions: Actions = {
	/** "Ask the tutor why": a conversation about one of the student's own answers. */
	ask: async ({ locals, request }) => {
		const form = await readForm(request);
		if (!form.ok) return fail(form.status, { message: form.message });
		const answerId = form.data.get('answerId');
		if (!v.is(Uuid, answerId)) return fail(400, { message: 'That answer could not be found.' });
		const id = await askAboutAnswer(locals.services.database.db, locals.user!.id, answerId);
		if (!id) return fail(404, { message: 'That answer could not be found.' });
		redirect(303, `/tutor/${id}`);
	}
};
