import * as v from 'valibot';
import * as auditLog from '#lib/server/admin/audit-log.ts';
import type { PageServerLoad } from './$types';

const Query = v.object({
	action: v.optional(v.pipe(v.string(), v.maxLength(100)), ''),
	actor: v.optional(v.pipe(v.string(), v.maxLength(100)), ''),
	page: v.optional(
		v.pipe(v.string(), v.regex(/^\d{1,6}$/), v.transform(Number), v.minValue(1)),
		'1'
	)
});

export const load: PageServerLoad = async ({ locals, url }) => {
	const parsed = v.safeParse(Query, Object.fromEntries(url.searchParams));
	const query = parsed.success ? parsed.output : { action: '', actor: '', page: 1 };
	const db = locals.services.database.db;
	const [result, actions] = await Promise.all([auditLog.list(db, query), auditLog.actions(db)]);
	return {
		...query,
		actions,
		...result,
		rows: result.rows.map((r) => ({
			...r,
			detail: Object.keys(r.detail).length ? JSON.stringify(r.detail) : '',
			// An account that is gone is still named by the email its entries recorded.
			goneEmail: !r.targetEmail && typeof r.detail.email === 'string' ? r.detail.email : null,
			createdAt: r.createdAt.toISOString()
		}))
	};
};
