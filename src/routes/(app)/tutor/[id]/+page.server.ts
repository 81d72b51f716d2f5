import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as convos from '#lib/server/tutor/conversations.ts';
import { readForm } from '#lib/server/http/forms.ts';
import * as course from '#lib/server/learn/course.ts';
import { StoredContext } from '#lib/server/learn/tutor-context.ts';
import { listQuery } from '../list-query.ts';
import type { Actions, PageServerLoad } from './$types';

const IdSchema = v.pipe(v.string(), v.uuid());
const TitleSchema = v.pipe(
	v.string('Enter a title.'),
	v.trim(),
	v.nonEmpty('Enter a title.'),
	v.maxLength(convos.TITLE_MAX, `A title has at most ${convos.TITLE_MAX} characters.`)
);

function conversationId(params: { id: string }) {
	if (!v.is(IdSchema, params.id)) error(404, 'This conversation does not exist.');
	return params.id;
}

export const load: PageServerLoad = async ({ locals, params, url }) => {
	const id = conversationId(params);
	const db = locals.services.database.db;
	const conversation = await convos.get(db, locals.user!.id, id);
	if (!conversation) error(404, 'This conversation does not exist.');
	const { q, page } = listQuery(url);
	const list = await convos.list(db, locals.user!.id, { query: q, page });
	const stored = v.safeParse(StoredContext, conversation.context ?? {});
	const lesson =
		stored.success && stored.output.lessonId
			? await course.lessonLink(db, stored.output.lessonId)
			: null;
	return {
		conversation: { id: conversation.id, title: conversation.title },
		lesson,
		list: {
			q,
			...list,
			rows: list.rows.map((r) => ({ ...r, updatedAt: r.updatedAt.toISOString() }))
		}
	};
};

export const actions: Actions = {
	rename: async ({ locals, params, request }) => {
		const id = conversationId(params);
		const body = await readForm(request);
		if (!body.ok) return fail(body.status, { message: body.message });
		const parsed = v.safeParse(TitleSchema, body.data.get('title'));
		if (!parsed.success) return fail(400, { message: parsed.issues[0].message });
		if (!(await convos.rename(locals.services.database.db, locals.user!.id, id, parsed.output)))
			error(404, 'This conversation does not exist.');
		return { renamed: parsed.output };
	},
	delete: async ({ locals, params }) => {
		const id = conversationId(params);
		if (!(await convos.remove(locals.services.database.db, locals.user!.id, id)))
			error(404, 'This conversation does not exist.');
		redirect(303, '/tutor');
	}
};
