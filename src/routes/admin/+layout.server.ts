import { error, redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

// Enforced for every request by the guard handle; repeated here so the layout never renders otherwise.
export const load: LayoutServerLoad = ({ locals, url }) => {
	if (!locals.user) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
	if (locals.user.role !== 'admin') error(403, 'This area is for administrators.');
	return { user: locals.user };
};
