/**
 * Account administration: list and read users, change a role, disable or enable an account, delete
 * it with everything it owns, and export everything stored about it. Every change that could lock
 * the acting admin out (demoting, disabling or deleting themself) is refused here, as is demoting,
 * disabling or deleting an account that ADMIN_EMAIL makes an administrator.
 *
 * @example
 * const result = await users.setDisabled({ db, config }, actor.id, userId, true);
 * if (!result.ok) return fail(result.status, { message: result.message });
 */
import { and, desc, eq, ilike, isNull, or, sql } from 'drizzle-orm';
import type { Config } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import { conversations, refreshTokens, users } from '#lib/server/db/schema.ts';
import { erase } from '#lib/server/users/erase.ts';
import { profile } from '#lib/server/users/profile.ts';
import { countUpTo } from './count';
import { isAdminEmail } from './roles';
import { signedOut } from '#lib/server/ws/sessions.ts';

// The export is shared with the student's own "Download my data"; one implementation.
export { exportStream, type UserExport } from '#lib/server/users/export.ts';

export const PAGE_SIZE = 25;

export interface Deps {
	db: Db;
	config: Config;
}

export type Role = 'student' | 'admin';

export type Refusal = { ok: false; status: 400 | 403 | 404 | 409; message: string };
export type Outcome<T = object> = ({ ok: true } & T) | Refusal;

/**
 * A search matching fewer accounts than this sorts all its matches (found by the trigram indexes)
 * and counts them in the same statement; a broader one walks the newest-first index.
 */
export const SORT_MATCHES_BELOW = 2_000;

/** One page of users, newest first, optionally filtered by email or name. */
export async function list(db: Db, options: { query?: string; page: number }) {
	const q = options.query?.trim();
	const pattern = q ? `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%` : undefined;
	const where = pattern
		? or(ilike(users.email, pattern), ilike(users.displayName, pattern))
		: undefined;
	const offset = (options.page - 1) * PAGE_SIZE;
	const matching = () =>
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
			.where(where);
	if (where) {
		// The LIMIT fences the subquery: the planner, which cannot know where the matches lie in
		// time, finds them by trigram and sorts them instead of walking the whole index.
		const m = matching().limit(SORT_MATCHES_BELOW).as('m');
		const few = await db
			.select({ ...m._.selectedFields, matches: sql<number>`count(*) over ()`.mapWith(Number) })
			.from(m)
			.orderBy(desc(m.createdAt), desc(m.id))
			.limit(PAGE_SIZE)
			.offset(offset);
		const n = few[0]?.matches;
		if (n !== undefined && n < SORT_MATCHES_BELOW) {
			const rows = few.map(({ matches: _, ...row }) => row);
			return { rows, total: n, capped: false, page: options.page, pageSize: PAGE_SIZE };
		}
	}
	const [rows, counted] = await Promise.all([
		matching().orderBy(desc(users.createdAt), desc(users.id)).limit(PAGE_SIZE).offset(offset),
		countUpTo(db, users, where)
	]);
	return { rows, ...counted, page: options.page, pageSize: PAGE_SIZE };
}

/** The account as the admin pages show it (never the password hash), or null. */
export const get = profile;

/** Sets the stored role. The account's next request already sees it (roles are read per request). */
export async function setRole(
	{ db, config }: Deps,
	actorId: string,
	id: string,
	role: Role
): Promise<Outcome<{ email: string; from: Role; changed: boolean }>> {
	const user = await get(db, id);
	if (!user) return gone();
	if (role === 'student' && id === actorId)
		return { ok: false, status: 403, message: 'You cannot remove your own administrator role.' };
	if (role === 'student' && isAdminEmail(config, user.email))
		return {
			ok: false,
			status: 409,
			message: `${user.email} is named in the server's ADMIN_EMAIL setting; change that setting to demote it.`
		};
	const from = user.role;
	if (user.role !== role)
		await db
			.update(users)
			.set({ role, updatedAt: sql`now()` })
			.where(eq(users.id, id));
	return { ok: true, email: user.email, from, changed: from !== role };
}

/**
 * Disables or enables an account. Disabling also ends every session at once: the token version
 * is bumped (issued access tokens stop working) and every refresh token is revoked.
 */
export async function setDisabled(
	{ db, config }: Deps,
	actorId: string,
	id: string,
	disabled: boolean
): Promise<Outcome<{ email: string; changed: boolean }>> {
	const user = await get(db, id);
	if (!user) return gone();
	if (disabled && id === actorId)
		return { ok: false, status: 403, message: 'You cannot disable your own account.' };
	if (disabled && isAdminEmail(config, user.email))
		return {
			ok: false,
			status: 409,
			message: `${user.email} is named in the server's ADMIN_EMAIL setting and cannot be disabled here.`
		};
	if (Boolean(user.disabledAt) === disabled) return { ok: true, email: user.email, changed: false };
	if (!disabled) {
		await db
			.update(users)
			.set({ disabledAt: null, updatedAt: sql`now()` })
			.where(eq(users.id, id));
		return { ok: true, email: user.email, changed: true };
	}
	await db.transaction(async (tx) => {
		await tx
			.update(users)
			.set({
				disabledAt: sql`now()`,
				tokenVersion: sql`${users.tokenVersion} + 1`,
				updatedAt: sql`now()`
			})
			.where(eq(users.id, id));
		await tx
			.update(refreshTokens)
			.set({ revokedAt: sql`now()` })
			.where(and(eq(refreshTokens.userId, id), isNull(refreshTokens.revokedAt)));
	});
	await signedOut(db, id);
	return { ok: true, email: user.email, changed: true };
}

/**
 * Deletes the account once `confirmEmail` repeats its email, with everything it owns (see
 * `users/erase.ts` for what goes and what anonymous rows stay).
 */
export async function remove(
	{ db, config }: Deps,
	actorId: string,
	id: string,
	confirmEmail: string
): Promise<Outcome<{ email: string; displayName: string }>> {
	const user = await get(db, id);
	if (!user) return gone();
	if (id === actorId)
		return { ok: false, status: 403, message: 'You cannot delete your own account here.' };
	if (isAdminEmail(config, user.email))
		return {
			ok: false,
			status: 409,
			message: `${user.email} is named in the server's ADMIN_EMAIL setting and cannot be deleted here.`
		};
	if (confirmEmail.trim().toLowerCase() !== user.email)
		return {
			ok: false,
			status: 400,
			message: `Type the account's email (${user.email}) to confirm.`
		};
	const erased = await erase(db, id);
	if (erased.ok) return erased;
	if (erased.reason === 'last-admin')
		return { ok: false, status: 409, message: 'The only administrator cannot be deleted.' };
	return gone();
}

/** The user's most recent conversations: titles and dates only, never their content. */
export async function recentConversations(db: Db, id: string, limit = 10) {
	// The newest few first, then their messages counted: a student may have thousands.
	const recent = db
		.select({
			id: conversations.id,
			title: conversations.title,
			updatedAt: conversations.updatedAt
		})
		.from(conversations)
		.where(eq(conversations.userId, id))
		.orderBy(desc(conversations.updatedAt), desc(conversations.id))
		.limit(limit)
		.as('recent');
	const rows = await db
		.select({
			id: recent.id,
			title: recent.title,
			updatedAt: recent.updatedAt,
			messages: sql<number>`(select count(*) from messages m where m.conversation_id = "recent"."id")`
		})
		.from(recent)
		.orderBy(desc(recent.updatedAt), desc(recent.id));
	return rows.map((r) => ({ ...r, messages: Number(r.messages) }));
}

function gone(): Refusal {
	return { ok: false, status: 404, message: 'That account no longer exists.' };
}
