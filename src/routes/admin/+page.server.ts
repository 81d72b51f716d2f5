import * as v from 'valibot';
import * as adminUsers from '#lib/server/admin/users.ts';
import { runtime } from '#lib/server/runtime.ts';
import { isAdminEmail } from '#lib/server/admin/roles.ts';
import type { PageServerLoad } from './$types';

const Query = v.object({
	q: v.optional(v.pipe(v.string(), v.maxLength(100)), ''),
	page: v.optional(
		v.pipe(v.string(), v.regex(/^\d{1,6}$/), v.transform(Number), v.minValue(1)),
		'1'
	)
});

export const load: PageServerLoad = async ({ url }) => {
	const parsed = v.safeParse(Query, Object.fromEntries(url.searchParams));
	const { q, page } = parsed.success ? parsed.output : { q: '', page: 1 };
	const { config, database } = runtime();
	const result = await adminUsers.list(database.db, { query: q, page });
	return {
		q,
		...result,
		rows: result.rows.map((r) => ({
			...r,
			role: r.role === 'admin' || isAdminEmail(config, r.email) ? 'admin' : 'student',
			createdAt: r.createdAt.toISOString(),
			disabled: Boolean(r.disabledAt)
		}))
	};
};
