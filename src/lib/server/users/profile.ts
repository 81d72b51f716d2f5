import { eq } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { users } from '#lib/server/db/schema.ts';

/** What an account's own page, the admin pages and the data export show (never the password hash). */
export const profileColumns = {
	id: users.id,
	email: users.email,
	displayName: users.displayName,
	role: users.role,
	disabledAt: users.disabledAt,
	createdAt: users.createdAt,
	updatedAt: users.updatedAt
};

/** The account's profile, or null when there is no such account. */
export async function profile(db: Db, id: string) {
	const [row] = await db.select(profileColumns).from(users).where(eq(users.id, id));
	return row ?? null;
}
