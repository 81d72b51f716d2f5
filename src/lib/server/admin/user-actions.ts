/**
 * Form actions shared by the users list and a user's page: change the role, disable, enable and
 * delete the account named by the form's `id`. Each refusal answers a 4xx with the reason and the
 * account's id (so the page can show it beside that account); each change writes an audit entry.
 */
import { fail, redirect, type RequestEvent } from '@sveltejs/kit';
import * as v from 'valibot';
import { readForm } from '#lib/server/http/forms.ts';
import * as users from './users';
import * as audit from '#lib/server/audit.ts';

const Id = v.pipe(v.string(), v.uuid());

async function target(event: RequestEvent) {
	const form = await readForm(event.request);
	if (!form.ok) return { error: fail(form.status, { message: form.message }) } as const;
	const id = v.safeParse(Id, form.data.get('id') ?? event.params.id);
	if (!id.success)
		return { error: fail(400, { message: 'That request named no account.' }) } as const;
	const { config, database } = event.locals.services;
	return {
		id: id.output,
		form: form.data,
		deps: { db: database.db, config },
		actorId: event.locals.user!.id
	} as const;
}

const refused = (id: string, r: users.Refusal) => fail(r.status, { message: r.message, id });

export async function role(event: RequestEvent) {
	const t = await target(event);
	if ('error' in t) return t.error;
	const wanted = v.safeParse(v.picklist(['student', 'admin']), t.form.get('role'));
	if (!wanted.success) return fail(400, { message: 'Choose student or admin.', id: t.id });
	const r = await users.setRole(t.deps, t.actorId, t.id, wanted.output);
	if (!r.ok) return refused(t.id, r);
	if (r.changed)
		await audit.recordAction(t.deps.db, event, 'user.role_change', t.id, {
			email: r.email,
			from: r.from,
			to: wanted.output
		});
	return {
		id: t.id,
		done: `${r.email} is now ${wanted.output === 'admin' ? 'an admin' : 'a student'}.`
	};
}

async function setDisabled(event: RequestEvent, disabled: boolean) {
	const t = await target(event);
	if ('error' in t) return t.error;
	const r = await users.setDisabled(t.deps, t.actorId, t.id, disabled);
	if (!r.ok) return refused(t.id, r);
	if (r.changed)
		await audit.recordAction(t.deps.db, event, disabled ? 'user.disable' : 'user.enable', t.id, {
			email: r.email
		});
	return {
		id: t.id,
		done: disabled
			? `${r.email} is disabled and signed out everywhere.`
			: `${r.email} can sign in again.`
	};
}

export const disable = (event: RequestEvent) => setDisabled(event, true);
export const enable = (event: RequestEvent) => setDisabled(event, false);

/** Deletes the account; from the account's own page, goes back to the list afterwards. */
export async function remove(event: RequestEvent) {
	const t = await target(event);
	if ('error' in t) return t.error;
	const confirm = t.form.get('confirm');
	const r = await users.remove(t.deps, t.actorId, t.id, typeof confirm === 'string' ? confirm : '');
	if (!r.ok) return refused(t.id, r);
	await audit.recordAction(t.deps.db, event, 'user.delete', t.id, {
		email: r.email,
		displayName: r.displayName
	});
	if (event.params.id) redirect(303, `/admin?deleted=${encodeURIComponent(r.email)}`);
	return { id: t.id, done: `Deleted ${r.email} and everything stored about them.` };
}

export const actions = { role, disable, enable, delete: remove };
