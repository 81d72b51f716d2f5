import { error, redirect } from '@sveltejs/kit';
import * as adminSetup from '#lib/server/admin/setup.ts';
import type { LayoutServerLoad } from './$types';

// Enforced for every request by the guard handle; repeated here so the layout never renders otherwise.
export const load: LayoutServerLoad = async ({ locals, url }) => {
	if (!locals.user) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
	if (locals.user.role !== 'admin') {
		const { config, database } = locals.services;
		// The ADMIN_EMAIL account before any administrator exists: on to the setup code.
		if (await adminSetup.claimable(database.db, config, locals.user)) redirect(303, '/admin-setup');
		error(403, 'This area is for administrators.');
	}
	return { user: locals.user };
};
