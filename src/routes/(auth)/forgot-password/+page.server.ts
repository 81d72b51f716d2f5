import { fail } from '@sveltejs/kit';
import * as v from 'valibot';
import * as recovery from '#lib/server/auth/recovery.ts';
import { actionContext, linkBase, readForm } from '#lib/server/http/forms.ts';
import { ForgotPasswordSchema, fieldErrors, formFields } from '#lib/validation/account.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => ({
	mailEnabled: Boolean(locals.services.config.smtp),
	minutes: locals.services.config.accounts.resetTtlMinutes
});

export const actions: Actions = {
	default: async (event) => {
		const body = await readForm(event.request);
		if (!body.ok) return fail(body.status, { message: body.message });
		const raw = formFields(body.data, ['email']);
		const email = typeof raw.email === 'string' ? raw.email.slice(0, 254) : '';
		const parsed = v.safeParse(ForgotPasswordSchema, raw);
		if (!parsed.success) return fail(400, { email, errors: fieldErrors(parsed.issues) });
		const { deps, client } = actionContext(event);
		const result = await recovery.requestReset(deps, parsed.output.email, client, linkBase(event));
		if (!result.ok) {
			if (result.retryAfterSeconds)
				event.setHeaders({ 'retry-after': String(result.retryAfterSeconds) });
			return fail(result.status, { email, message: result.message });
		}
		// The same answer for every address, so it tells nobody which ones have an account.
		return { sent: true };
	}
};
