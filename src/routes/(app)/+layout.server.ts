import { redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

// The guard handle already enforces this for every request in the group; this keeps the page
// data honest (a user is always present below this layout).
export const load: LayoutServerLoad = ({ locals, url }) => {
	if (!locals.user) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
	return { user: locals.user };
};
