import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as forms from '#lib/server/admin/content-forms.ts';
import * as queries from '#lib/server/admin/content-queries.ts';
import * as edits from '#lib/server/admin/content-edits.ts';
import * as audit from '#lib/server/audit.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['title', 'slug', 'difficulty', 'prompt', 'starterCode', 'solutionCode', 'checks'];
const isId = (id: string) => v.is(v.pipe(v.string(), v.uuid()), id);

export const load: PageServerLoad = async ({ locals, params }) => {
	const found = isId(params.id)
		? await queries.getExercise(locals.services.database.db, params.id)
		: null;
	if (!found) error(404, 'This exercise does not exist.');
	const x = found.exercise;
	return {
		module: found.module,
		lesson: found.lesson,
		exercise: {
			id: x.id,
			title: x.title,
			slug: x.slug,
			difficulty: String(x.difficulty),
			prompt: x.prompt,
			starterCode: x.starterCode,
			solutionCode: x.solutionCode,
			checks: x.checks
		},
		verification: found.verification,
		hash: found.hash
	};
};

export const actions: Actions = {
	save: async (event) => {
		if (!isId(event.params.id)) error(404, 'This exercise does not exist.');
		const form = await readForm(event.request);
		if (!form.ok) return fail(form.status, { values: {}, errors: { form: form.message } });
		const parsed = forms.parse(forms.ExerciseInput, FIELDS, form.data);
		if (!parsed.ok) return fail(400, { values: parsed.values, errors: parsed.errors });
		const db = event.locals.services.database.db;
		const ran = forms.readVerifiedRun(form.data);
		const saved = await edits.updateExercise(db, event.params.id, parsed.values, ran);
		if (!saved.ok)
			return fail(400, {
				values: { ...parsed.values, difficulty: String(parsed.values.difficulty) },
				errors: saved.errors
			});
		await audit.recordAction(db, event, 'content.exercise.update', event.params.id, {
			slug: parsed.values.slug
		});
		return { saved: true };
	},
	delete: async (event) => {
		if (!isId(event.params.id)) error(404, 'This exercise does not exist.');
		const db = event.locals.services.database.db;
		const found = await queries.getExercise(db, event.params.id);
		const gone = await edits.remove(db, 'exercise', event.params.id);
		if (gone)
			await audit.recordAction(db, event, 'content.exercise.delete', event.params.id, {
				title: gone.title
			});
		redirect(303, found ? `/admin/content/lessons/${found.lesson.id}` : '/admin/content');
	}
};
