import { error, fail } from '@sveltejs/kit';
import * as v from 'valibot';
import * as recovery from '#lib/server/auth/recovery.ts';
import { actionContext, readForm } from '#lib/server/http/forms.ts';
import { VerifyEmailSchema, formFields, linkToken } from '#lib/validation/account.ts';
import type { Actions, PageServerLoad } from './$types';

// Opening the link shows a button and spends nothing: mail scanners fetch links before the person does.
export const load: PageServerLoad = async (event) => {
	if (event.url.searchParams.get('sent') === '1') return { state: 'sent' as const };
	const token = v.safeParse(linkToken, event.url.searchParams.get('token') ?? undefined);
	if (!token.success) error(400, token.issues[0].message);
	event.setHeaders({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
	const { deps } = actionContext(event);
	const usable = await recovery.isUsable(deps, token.output, 'verify');
	return { state: usable ? ('confirm' as const) : ('spent' as const), token: token.output };
};

export const actions: Actions = {
	default: async (event) => {
		const body = await readForm(event.request);
		if (!body.ok) return fail(body.status, { message: body.message });
		const parsed = v.safeParse(VerifyEmailSchema, formFields(body.data, ['token']));
		if (!parsed.success) return fail(400, { message: parsed.issues[0].message });
		const { deps, client } = actionContext(event);
		const result = await recovery.verifyEmail(deps, parsed.output.token, client);
		if (!result.ok) {
			if (result.retryAfterSeconds)
				event.setHeaders({ 'retry-after': String(result.retryAfterSeconds) });
			return fail(result.status, { message: result.message });
		}
		return { verified: true };
	}
};
