import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as admin from '#lib/server/practice/admin.ts';
import { formToRaw, inputToForm, readQuestionForm } from '#lib/server/practice/admin-form.ts';
import * as audit from '#lib/server/audit.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

function checkId(id: string) {
	if (!v.is(v.pipe(v.string(), v.uuid()), id)) error(404, 'There is no such question.');
}

export const load: PageServerLoad = async ({ locals, params }) => {
	checkId(params.id);
	const db = locals.services.database.db;
	const found = await admin.getQuestion(db, params.id);
	if (!found) error(404, 'There is no such question.');
	return {
		id: found.id,
		values: inputToForm(found.input),
		topics: await admin.examsAndTopics(db)
	};
};

export const actions: Actions = {
	save: async ({ locals, params, request }) => {
		checkId(params.id);
		const body = await readForm(request);
		if (!body.ok) return fail(body.status, { errors: [body.message], values: undefined });
		const values = readQuestionForm(body.data);
		const db = locals.services.database.db;
		const result = await admin.saveQuestion(db, params.id, formToRaw(values));
		if (!result.ok) return fail(400, { errors: result.errors, values });
		await audit.record(db, {
			actorId: locals.user!.id,
			action: 'question.update',
			targetId: params.id,
			detail: { ref: values.ref }
		});
		return { saved: true };
	},
	delete: async ({ locals, params }) => {
		checkId(params.id);
		const db = locals.services.database.db;
		const ref = await admin.deleteQuestion(db, params.id);
		if (!ref)
			return fail(404, { errors: ['This question was already deleted.'], values: undefined });
		await audit.record(db, {
			actorId: locals.user!.id,
			action: 'question.delete',
			targetId: params.id,
			detail: { ref }
		});
		redirect(303, `/admin/questions?deleted=${encodeURIComponent(ref)}`);
	}
};
