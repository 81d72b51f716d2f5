/**
 * Form actions shared by the content pages: move, publish/unpublish and delete an item named by the
 * form's `kind` and `id`. Each writes an audit entry; a refused publish answers 409 with the reason.
 */
import { fail, type RequestEvent } from '@sveltejs/kit';
import * as v from 'valibot';
import { readForm } from '#lib/server/http/forms.ts';
import * as edits from './content-edits';
import * as publish from './content-publish';
import * as audit from '#lib/server/audit.ts';

const Target = v.object({
	kind: v.picklist(['module', 'lesson', 'exercise']),
	id: v.pipe(v.string(), v.uuid())
});

async function target(event: RequestEvent) {
	const form = await readForm(event.request);
	if (!form.ok) return { error: fail(form.status, { message: form.message }) } as const;
	const parsed = v.safeParse(Target, {
		kind: form.data.get('kind'),
		id: form.data.get('id')
	});
	if (!parsed.success)
		return { error: fail(400, { message: 'That request named no content item.' }) } as const;
	return { ...parsed.output, form: form.data } as const;
}

export async function move(event: RequestEvent) {
	const t = await target(event);
	if ('error' in t) return t.error;
	const direction = t.form.get('direction');
	if (direction !== 'up' && direction !== 'down') return fail(400, { message: 'Move up or down.' });
	const db = event.locals.services.database.db;
	const moved = await edits.move(db, t.kind, t.id, direction);
	if (moved) await audit.recordAction(db, event, `content.${t.kind}.move`, t.id, { direction });
	return { moved: { kind: t.kind, id: t.id, direction } };
}

export async function status(event: RequestEvent) {
	const t = await target(event);
	if ('error' in t) return t.error;
	const wanted = t.form.get('status');
	if (t.kind === 'exercise' || (wanted !== 'published' && wanted !== 'draft'))
		return fail(400, { message: 'Only modules and lessons are published or unpublished.' });
	const db = event.locals.services.database.db;
	const result = await publish.setStatus(db, t.kind, t.id, wanted);
	if (!result.ok)
		return fail(409, {
			message: result.message,
			refused: { kind: t.kind, id: t.id },
			unverified: result.unverified
		});
	if (result.changed)
		await audit.recordAction(
			db,
			event,
			`content.${t.kind}.${wanted === 'published' ? 'publish' : 'unpublish'}`,
			t.id
		);
	return { status: { kind: t.kind, id: t.id, status: wanted } };
}

export async function remove(event: RequestEvent) {
	const t = await target(event);
	if ('error' in t) return t.error;
	const db = event.locals.services.database.db;
	const gone = await edits.remove(db, t.kind, t.id);
	if (!gone) return fail(404, { message: `That ${t.kind} was already deleted.` });
	await audit.recordAction(db, event, `content.${t.kind}.delete`, t.id, { title: gone.title });
	return { deleted: { kind: t.kind, title: gone.title } };
}
