import * as v from 'valibot';
import * as adminUsers from '#lib/server/admin/users.ts';
import * as userActions from '#lib/server/admin/user-actions.ts';
import * as reports from '#lib/server/cost/reports.ts';
import { isAdminEmail } from '#lib/server/admin/roles.ts';
import type { Actions, PageServerLoad } from './$types';

const Query = v.object({
	q: v.optional(v.pipe(v.string(), v.maxLength(100)), ''),
	page: v.optional(
		v.pipe(v.string(), v.regex(/^\d{1,6}$/), v.transform(Number), v.minValue(1)),
		'1'
	),
	deleted: v.optional(v.pipe(v.string(), v.maxLength(320)))
});

export const load: PageServerLoad = async ({ url, locals }) => {
	const parsed = v.safeParse(Query, Object.fromEntries(url.searchParams));
	const { q, page, deleted } = parsed.success
		? parsed.output
		: { q: '', page: 1, deleted: undefined };
	const { config, database } = locals.services;
	const result = await adminUsers.list(database.db, { query: q, page });
	const spent = await reports.spendByUser(
		database.db,
		result.rows.map((r) => r.id)
	);
	return {
		q,
		deleted: deleted ?? null,
		...result,
		rows: result.rows.map((r) => ({
			...r,
			byAdminEmail: isAdminEmail(config, r.email),
			self: r.id === locals.user?.id,
			createdAt: r.createdAt.toISOString(),
			disabled: Boolean(r.disabledAt),
			disabledAt: r.disabledAt?.toISOString() ?? null,
			spentTodayUsd: spent.get(r.id) ?? 0
		}))
	};
};

export const actions: Actions = userActions.actions;
