import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as forms from '#lib/server/admin/content-forms.ts';
import * as queries from '#lib/server/admin/content-queries.ts';
import * as edits from '#lib/server/admin/content-edits.ts';
import { audit } from '#lib/server/admin/audit-event.ts';
import { readForm } from '#lib/server/http/forms.ts';
import { runtime } from '#lib/server/runtime.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['title', 'slug', 'difficulty', 'prompt', 'starterCode', 'solutionCode', 'checks'];

async function parent(url: URL) {
	const id = url.searchParams.get('lesson') ?? '';
	const found = v.is(v.pipe(v.string(), v.uuid()), id)
		? await queries.getLesson(runtime().database.db, id)
		: null;
	if (!found) error(404, 'Choose a lesson to add the exercise to (from its editor).');
	return found;
}

export const load: PageServerLoad = async ({ url }) => {
	const found = await parent(url);
	return {
		module: found.module,
		lesson: { id: found.lesson.id, title: found.lesson.title }
	};
};

export const actions: Actions = {
	create: async (event) => {
		const found = await parent(event.url);
		const form = await readForm(event.request);
		if (!form.ok) return fail(form.status, { values: {}, errors: { form: form.message } });
		const parsed = forms.parse(forms.ExerciseInput, FIELDS, form.data);
		if (!parsed.ok) return fail(400, { values: parsed.values, errors: parsed.errors });
		const saved = await edits.createExercise(runtime().database.db, found.lesson.id, parsed.values);
		if (!saved.ok)
			return fail(400, {
				values: { ...parsed.values, difficulty: String(parsed.values.difficulty) },
				errors: saved.errors
			});
		await audit(event, 'content.exercise.create', saved.id, {
			lesson: found.lesson.id,
			slug: parsed.values.slug
		});
		redirect(303, `/admin/content/exercises/${saved.id}?created=1`);
	}
};
