import * as policy from '#lib/server/auth/policy.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ locals }) => {
	const { config, database } = locals.services;
	return {
		providers: config.sso.map(({ id, name }) => ({ id, name })),
		passwordSignIn: (await policy.read(database.db)).passwordSignIn
	};
};
