import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as accounts from '#lib/server/auth/accounts.ts';
import * as recovery from '#lib/server/auth/recovery.ts';
import { setSessionCookies } from '#lib/server/auth/cookies.ts';
import { actionContext, linkBase, readForm, safeNext } from '#lib/server/http/forms.ts';
import { LoginSchema, fieldErrors, formFields } from '#lib/validation/account.ts';
import { ssoMessage } from '#lib/auth/sso-messages.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
	if (locals.user) redirect(303, safeNext(url.searchParams.get('next')));
	const provider = locals.services.config.sso.find(
		(p) => p.id === url.searchParams.get('provider')
	);
	return { ssoError: provider ? ssoMessage(url.searchParams.get('sso'), provider.name) : null };
};

export const actions: Actions = {
	default: async (event) => {
		const body = await readForm(event.request);
		if (!body.ok) return fail(body.status, { message: body.message });
		const form = body.data;
		const raw = formFields(form, ['email', 'password']);
		const email = typeof raw.email === 'string' ? raw.email.slice(0, 254) : '';
		const parsed = v.safeParse(LoginSchema, raw);
		if (!parsed.success) return fail(400, { email, errors: fieldErrors(parsed.issues) });
		const { deps, client } = actionContext(event);
		// An account that must confirm its address first gets a new link (within its rate limit).
		const result = await accounts.login(deps, parsed.output, client, (user) =>
			recovery.sendVerification(deps, user, linkBase(event))
		);
		if (!result.ok) {
			if (result.retryAfterSeconds)
				event.setHeaders({ 'retry-after': String(result.retryAfterSeconds) });
			return fail(result.status, { email, message: result.message });
		}
		setSessionCookies(event.cookies, deps.config, event.url, result.session);
		redirect(303, safeNext(event.url.searchParams.get('next')));
	}
};
