import { redirect } from '@sveltejs/kit';
import * as accounts from '#lib/server/auth/accounts.ts';
import { REFRESH_COOKIE, clearSessionCookies } from '#lib/server/auth/cookies.ts';
import { actionContext } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

// Logging out changes state, so it is a POST (a link or image cannot log anyone out).
export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
	default: async (event) => {
		const { deps } = actionContext(event);
		await accounts.logout(deps, {
			refreshToken: event.cookies.get(REFRESH_COOKIE),
			user: event.locals.user
		});
		clearSessionCookies(event.cookies, deps.config, event.url);
		redirect(303, '/login?loggedOut=1');
	}
};
