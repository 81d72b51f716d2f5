/**
 * The account page's self-service actions: change the display name and delete the account. The
 * rules live in `account/self-service.ts`; this file reads the form and answers the page.
 */
import { fail, redirect, type RequestEvent } from '@sveltejs/kit';
import * as v from 'valibot';
import * as selfService from '#lib/server/account/self-service.ts';
import type { Failure } from '#lib/server/auth/accounts.ts';
import { clearSessionCookies } from '#lib/server/auth/cookies.ts';
import { clearReauthenticated, isReauthenticated } from '#lib/server/auth/reauth.ts';
import { actionContext, readForm } from '#lib/server/http/forms.ts';
import {
	DeleteAccountSchema,
	RenameSchema,
	fieldErrors,
	formFields
} from '#lib/validation/account.ts';

/** What the page needs to draw the delete form: a password field, or the provider's sign-in. */
export async function deletionState(event: RequestEvent) {
	const { deps } = actionContext(event);
	const id = event.locals.user!.id;
	return {
		hasPassword: await selfService.hasPassword(deps, id),
		reauthenticated: await isReauthenticated(event.cookies, deps.config, id)
	};
}

function refused(event: RequestEvent, action: string, r: Failure) {
	if (r.retryAfterSeconds) event.setHeaders({ 'retry-after': String(r.retryAfterSeconds) });
	return fail(
		r.status,
		r.field ? { action, errors: { [r.field]: r.message } } : { action, message: r.message }
	);
}

export async function rename(event: RequestEvent) {
	const body = await readForm(event.request);
	if (!body.ok) return fail(body.status, { action: 'rename', message: body.message });
	const parsed = v.safeParse(RenameSchema, formFields(body.data, ['displayName']));
	if (!parsed.success) return fail(400, { action: 'rename', errors: fieldErrors(parsed.issues) });
	const { deps, client } = actionContext(event);
	const id = event.locals.user!.id;
	const r = await selfService.rename(deps, id, parsed.output.displayName, client);
	if (!r.ok) return refused(event, 'rename', r);
	return { action: 'rename', success: 'Display name saved.' };
}

export async function deleteAccount(event: RequestEvent) {
	const body = await readForm(event.request);
	if (!body.ok) return fail(body.status, { action: 'deleteAccount', message: body.message });
	const parsed = v.safeParse(
		DeleteAccountSchema,
		formFields(body.data, ['currentPassword', 'confirmEmail'])
	);
	if (!parsed.success)
		return fail(400, { action: 'deleteAccount', errors: fieldErrors(parsed.issues) });
	const { deps } = actionContext(event);
	const id = event.locals.user!.id;
	const fresh = await isReauthenticated(event.cookies, deps.config, id);
	const r = await selfService.deleteOwn(deps, id, parsed.output, fresh);
	if (!r.ok) return refused(event, 'deleteAccount', r);
	clearSessionCookies(event.cookies, deps.config, event.url);
	clearReauthenticated(event.cookies);
	redirect(303, '/login?deleted=1');
}
