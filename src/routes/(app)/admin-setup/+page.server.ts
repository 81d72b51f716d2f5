import { fail, redirect } from '@sveltejs/kit';
import * as adminSetup from '#lib/server/admin/setup.ts';
import { actionContext, readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const { config, database } = locals.services;
	const user = locals.user!;
	if (user.role === 'admin') redirect(303, '/admin');
	return { claimable: await adminSetup.claimable(database.db, config, user) };
};

export const actions: Actions = {
	default: async (event) => {
		const body = await readForm(event.request);
		if (!body.ok) return fail(body.status, { message: body.message });
		const code = body.data.get('code');
		if (typeof code !== 'string' || !code.trim() || code.length > 200)
			return fail(400, { message: 'Enter the setup code from the server log.' });
		const { deps, client } = actionContext(event);
		const outcome = await adminSetup.claim(deps, event.locals.user!, code, client);
		if (!outcome.ok) return fail(outcome.status, { message: outcome.message });
		redirect(303, '/admin');
	}
};
