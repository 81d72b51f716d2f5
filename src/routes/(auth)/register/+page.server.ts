import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as accounts from '#lib/server/auth/accounts.ts';
import * as recovery from '#lib/server/auth/recovery.ts';
import { setSessionCookies } from '#lib/server/auth/cookies.ts';
import { actionContext, linkBase, readForm, safeNext } from '#lib/server/http/forms.ts';
import { RegisterSchema, fieldErrors, formFields } from '#lib/validation/account.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (locals.user) redirect(303, '/dashboard');
};

export const actions: Actions = {
	default: async (event) => {
		const body = await readForm(event.request);
		if (!body.ok) return fail(body.status, { message: body.message });
		const form = body.data;
		const raw = formFields(form, ['email', 'displayName', 'password']);
		// Echo back what was typed (trimmed to sane lengths) so the student does not retype it.
		const values = {
			email: typeof raw.email === 'string' ? raw.email.slice(0, 254) : '',
			displayName: typeof raw.displayName === 'string' ? raw.displayName.slice(0, 80) : ''
		};
		const parsed = v.safeParse(RegisterSchema, raw);
		if (!parsed.success) return fail(400, { ...values, errors: fieldErrors(parsed.issues) });
		const { deps, client } = actionContext(event);
		const result = await accounts.createAccount(deps, parsed.output, client);
		if (!result.ok) {
			if (result.retryAfterSeconds)
				event.setHeaders({ 'retry-after': String(result.retryAfterSeconds) });
			return fail(
				result.status,
				result.field
					? { ...values, errors: { [result.field]: result.message } }
					: { ...values, message: result.message }
			);
		}
		if (deps.config.smtp) await recovery.sendVerification(deps, result.user, linkBase(event));
		// A school that requires confirmed addresses signs the account in only once it is confirmed.
		if (deps.config.accounts.requireEmailVerification) redirect(303, '/verify-email?sent=1');
		const session = await accounts.issueSession(deps, result.user, client);
		setSessionCookies(event.cookies, deps.config, event.url, session);
		redirect(303, safeNext(event.url.searchParams.get('next')));
	}
};
