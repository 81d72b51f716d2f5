/**
 * What a signed-in user does to their own account: change the display name, download everything
 * stored about them, and delete the account after proving a fresh sign-in. Each is rate limited
 * per user and audited; the deletion shares its transaction with the admin's (`users/erase.ts`).
 *
 * @example
 * const r = await selfService.deleteOwn(deps, user.id, { currentPassword, confirmEmail }, fresh);
 * if (!r.ok) return fail(r.status, { message: r.message });
 */
import { eq, sql } from 'drizzle-orm';
import { isAdminEmail } from '#lib/server/admin/roles.ts';
import * as audit from '#lib/server/audit.ts';
import {
	WRONG_PASSWORD,
	limited,
	type Client,
	type Deps,
	type Result
} from '#lib/server/auth/accounts.ts';
import { verifyPassword } from '#lib/server/auth/password.ts';
import { REAUTH_SECONDS } from '#lib/server/auth/reauth.ts';
import { users } from '#lib/server/db/schema.ts';
import type { RateLimitRule } from '#lib/server/rate-limit.ts';
import { erase } from '#lib/server/users/erase.ts';
import { exportStream, type UserExport } from '#lib/server/users/export.ts';

/** Downloads of one's own data per user: each builds the whole export, so a few an hour. */
export const EXPORT_RATE_LIMIT: RateLimitRule = { limit: 10, windowSeconds: 3600 };
/** Display-name changes per user: plenty for typos, too few to flood the audit log. */
export const RENAME_RATE_LIMIT: RateLimitRule = { limit: 20, windowSeconds: 3600 };

const ended = { ok: false, status: 401, message: 'Your session has ended. Log in again.' } as const;

/** Whether the account signs in with a password (else only through single sign-on). */
export async function hasPassword(deps: Deps, userId: string): Promise<boolean> {
	const [row] = await deps.db
		.select({ has: sql<boolean>`${users.passwordHash} is not null` })
		.from(users)
		.where(eq(users.id, userId));
	return Boolean(row?.has);
}

export async function rename(
	deps: Deps,
	userId: string,
	displayName: string,
	client: Client
): Promise<Result<{ changed: boolean }>> {
	const tooMany = await limited(deps, [{ key: `rename:user:${userId}`, rule: RENAME_RATE_LIMIT }]);
	if (tooMany) return tooMany;
	const [before] = await deps.db
		.select({ displayName: users.displayName })
		.from(users)
		.where(eq(users.id, userId));
	if (!before) return ended;
	if (before.displayName === displayName) return { ok: true, changed: false };
	await deps.db
		.update(users)
		.set({ displayName, updatedAt: sql`now()` })
		.where(eq(users.id, userId));
	await audit.record(deps.db, { actorId: userId, action: 'account.renamed', ip: client.ip });
	return { ok: true, changed: true };
}

export async function exportOwn(
	deps: Deps,
	userId: string,
	client: Client
): Promise<Result<{ download: UserExport }>> {
	const tooMany = await limited(deps, [{ key: `export:user:${userId}`, rule: EXPORT_RATE_LIMIT }]);
	if (tooMany) return tooMany;
	const download = await exportStream(deps.db, userId);
	if (!download) return ended;
	await audit.record(deps.db, { actorId: userId, action: 'account.exported', ip: client.ip });
	return { ok: true, download };
}

/**
 * Deletes the account once the user typed its email and proved a fresh sign-in: the current
 * password, or (for an account without one) a sign-in with their provider in the last minutes.
 * Refused for ADMIN_EMAIL accounts and for the only administrator.
 */
export async function deleteOwn(
	deps: Deps,
	userId: string,
	input: { currentPassword: string; confirmEmail: string },
	reauthenticated: boolean
): Promise<Result<object>> {
	// Shares changePassword's counter: deleting is no second way to guess the password.
	const tooMany = await limited(deps, [
		{ key: `password:user:${userId}`, rule: deps.config.loginRateLimit }
	]);
	if (tooMany) return tooMany;
	const [user] = await deps.db.select().from(users).where(eq(users.id, userId));
	if (!user) return ended;
	if (isAdminEmail(deps.config, user.email))
		return {
			ok: false,
			status: 409,
			message: `${user.email} is named in the server's ADMIN_EMAIL setting, so it cannot be deleted. Ask whoever runs the server to change that setting first.`
		};
	if (input.confirmEmail !== user.email)
		return {
			ok: false,
			status: 400,
			field: 'confirmEmail',
			message: `Type your email address (${user.email}) to confirm.`
		};
	if (user.passwordHash) {
		if (!(await verifyPassword(user.passwordHash, input.currentPassword))) return WRONG_PASSWORD;
	} else if (!reauthenticated)
		return {
			ok: false,
			status: 401,
			message: `To delete this account, sign in again with your sign-in provider, then delete it within ${REAUTH_SECONDS / 60} minutes.`
		};
	const erased = await erase(deps.db, userId);
	if (!erased.ok)
		return erased.reason === 'last-admin'
			? {
					ok: false,
					status: 409,
					message: 'You are the only administrator. Make someone else an administrator first.'
				}
			: ended;
	// No actor and nothing personal: the account it would name is gone.
	await audit.record(deps.db, { actorId: null, action: 'account.deleted', targetId: userId });
	return { ok: true };
}
