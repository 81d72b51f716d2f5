import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as forms from '#lib/server/admin/content-forms.ts';
import * as queries from '#lib/server/admin/content-queries.ts';
import * as edits from '#lib/server/admin/content-edits.ts';
import * as audit from '#lib/server/audit.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['title', 'slug', 'difficulty', 'prompt', 'starterCode', 'solutionCode', 'checks'];

async function parent(locals: App.Locals, url: URL) {
	const id = url.searchParams.get('lesson') ?? '';
	const found = v.is(v.pipe(v.string(), v.uuid()), id)
		? await queries.getLesson(locals.services.database.db, id)
		: null;
	if (!found) error(404, 'Choose a lesson to add the exercise to (from its editor).');
	return found;
}

export const load: PageServerLoad = async ({ locals, url }) => {
	const found = await parent(locals, url);
	return {
		module: found.module,
		lesson: { id: found.lesson.id, title: found.lesson.title }
	};
};

export const actions: Actions = {
	create: async (event) => {
		const found = await parent(event.locals, event.url);
		const form = await readForm(event.request);
		if (!form.ok) return fail(form.status, { values: {}, errors: { form: form.message } });
		const parsed = forms.parse(forms.ExerciseInput, FIELDS, form.data);
		if (!parsed.ok) return fail(400, { values: parsed.values, errors: parsed.errors });
		const db = event.locals.services.database.db;
		const saved = await edits.createExercise(
			db,
			found.lesson.id,
			parsed.values,
			forms.readVerifiedRun(form.data)
		);
		if (!saved.ok)
			return fail(400, {
				values: { ...parsed.values, difficulty: String(parsed.values.difficulty) },
				errors: saved.errors
			});
		await audit.recordAction(db, event, 'content.exercise.create', saved.id, {
			lesson: found.lesson.id,
			slug: parsed.values.slug
		});
		redirect(303, `/admin/content/exercises/${saved.id}?created=1`);
	}
};
