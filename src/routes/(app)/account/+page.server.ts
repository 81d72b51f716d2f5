import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as accounts from '#lib/server/auth/accounts.ts';
import { clearSessionCookies, setSessionCookies } from '#lib/server/auth/cookies.ts';
import { actionContext, readForm } from '#lib/server/http/forms.ts';
import { ChangePasswordSchema, fieldErrors, formFields } from '#lib/validation/account.ts';
import { emailStatus, sendVerificationAction } from './email.server';
import { signInMethods, unlinkProvider } from './sign-in-methods.server';
import * as selfService from './self-service.server';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({
	account: {
		email: event.locals.user!.email,
		displayName: event.locals.user!.displayName,
		role: event.locals.user!.role,
		memberSince: event.locals.user!.createdAt.toISOString()
	},
	emailStatus: await emailStatus(event),
	signIn: await signInMethods(event.locals.services, event.locals.user!.id, event.url),
	deletion: await selfService.deletionState(event)
});

export const actions: Actions = {
	sendVerification: sendVerificationAction,
	rename: selfService.rename,
	deleteAccount: selfService.deleteAccount,
	changePassword: async (event) => {
		const user = event.locals.user!;
		const body = await readForm(event.request);
		if (!body.ok) return fail(body.status, { action: 'changePassword', message: body.message });
		const form = body.data;
		const parsed = v.safeParse(
			ChangePasswordSchema,
			formFields(form, ['currentPassword', 'newPassword', 'confirmPassword'])
		);
		if (!parsed.success)
			return fail(400, { action: 'changePassword', errors: fieldErrors(parsed.issues) });
		const { deps, client } = actionContext(event);
		const result = await accounts.changePassword(deps, user.id, parsed.output, client);
		if (!result.ok)
			return fail(
				result.status,
				result.field
					? { action: 'changePassword', errors: { [result.field]: result.message } }
					: { action: 'changePassword', message: result.message }
			);
		setSessionCookies(event.cookies, deps.config, event.url, result.session);
		return {
			action: 'changePassword',
			success: 'Password changed. Every other device has been signed out.'
		};
	},
	unlinkProvider,
	logoutEverywhere: async (event) => {
		const { deps, client } = actionContext(event);
		await accounts.logoutEverywhere(deps, event.locals.user!.id, client);
		clearSessionCookies(event.cookies, deps.config, event.url);
		redirect(303, '/login?loggedOutEverywhere=1');
	}
};
