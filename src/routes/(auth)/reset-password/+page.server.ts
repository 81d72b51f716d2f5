import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as recovery from '#lib/server/auth/recovery.ts';
import { setSessionCookies } from '#lib/server/auth/cookies.ts';
import { actionContext, readForm } from '#lib/server/http/forms.ts';
import {
	ResetPasswordSchema,
	fieldErrors,
	formFields,
	linkToken
} from '#lib/validation/account.ts';
import type { Actions, PageServerLoad } from './$types';

// Opening the link only looks the token up: mail scanners fetch links before the person does.
export const load: PageServerLoad = async (event) => {
	const token = v.safeParse(linkToken, event.url.searchParams.get('token') ?? undefined);
	if (!token.success) error(400, token.issues[0].message);
	event.setHeaders({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
	const { deps } = actionContext(event);
	return { token: token.output, usable: await recovery.isUsable(deps, token.output, 'reset') };
};

export const actions: Actions = {
	default: async (event) => {
		const body = await readForm(event.request);
		if (!body.ok) return fail(body.status, { message: body.message });
		const parsed = v.safeParse(
			ResetPasswordSchema,
			formFields(body.data, ['token', 'newPassword', 'confirmPassword'])
		);
		if (!parsed.success) {
			const errors = fieldErrors(parsed.issues);
			return fail(400, { message: errors.token, errors });
		}
		const { deps, client } = actionContext(event);
		const { token, newPassword } = parsed.output;
		const result = await recovery.resetPassword(deps, token, newPassword, client);
		if (!result.ok) {
			if (result.retryAfterSeconds)
				event.setHeaders({ 'retry-after': String(result.retryAfterSeconds) });
			return fail(result.status, { message: result.message });
		}
		setSessionCookies(event.cookies, deps.config, event.url, result.session);
		redirect(303, '/dashboard?notice=password-reset');
	}
};
