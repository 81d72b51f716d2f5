import { count, desc, ilike, or } from 'drizzle-orm';
import type { Db } from '../db';
import { users } from '../db/schema';

export const PAGE_SIZE = 25;

/** One page of users, newest first, optionally filtered by email or name. */
export async function list(db: Db, options: { query?: string; page: number }) {
	const q = options.query?.trim();
	const pattern = q ? `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%` : undefined;
	const where = pattern
		? or(ilike(users.email, pattern), ilike(users.displayName, pattern))
		: undefined;
	const [rows, [total]] = await Promise.all([
		db
			.select({
				id: users.id,
				email: users.email,
				displayName: users.displayName,
				role: users.role,
				disabledAt: users.disabledAt,
				createdAt: users.createdAt
			})
			.from(users)
			.where(where)
			.orderBy(desc(users.createdAt), desc(users.id))
			.limit(PAGE_SIZE)
			.offset((options.page - 1) * PAGE_SIZE),
		db.select({ n: count() }).from(users).where(where)
	]);
	return { rows, total: total?.n ?? 0, page: options.page, pageSize: PAGE_SIZE };
}
