/**
 * Password reset and email verification by a link in a mail. A link carries 32 random bytes; only
 * their SHA-256 is stored, it works once and expires (PASSWORD_RESET_TTL_MINUTES,
 * EMAIL_VERIFICATION_TTL_HOURS). Asking for a reset answers the same, in the same time, whether or
 * not the address has an account: the lookup and the mail happen after the response.
 *
 * @example
 * await recovery.requestReset(deps, 'sam@example.com', client, 'https://tutor.example.org');
 * const result = await recovery.resetPassword(deps, token, 'a new long password', client);
 * if (result.ok) setSessionCookies(cookies, config, url, result.session);
 */
import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { accountTokens, refreshTokens, users, type User } from '#lib/server/db/schema.ts';
import * as audit from '#lib/server/audit.ts';
import * as background from '#lib/server/background.ts';
import * as mail from '#lib/server/mail.ts';
import type { RateLimitRule } from '#lib/server/rate-limit.ts';
import { signedOut } from '#lib/server/ws/sessions.ts';
import {
	issueSession,
	limited,
	type Client,
	type Deps,
	type Result,
	type Session
} from './accounts';
import { hashPassword } from './password';
import { passwordAllowed } from './policy';
import { resetMail, verifyMail } from './recovery-mail';
import { hashTokenId } from './tokens';

type Purpose = 'reset' | 'verify';
type Done = Result<Record<never, never>>;

export const LINK_SPENT = 'This link has expired or was already used. Ask for a new one.';
const NO_MAIL = 'Email is not set up on this server. Ask your teacher for help.';

// One classroom shares an address: a client gets ten times the allowance of one account.
const perClient = (rule: RateLimitRule) => ({
	limit: rule.limit * 10,
	windowSeconds: rule.windowSeconds
});

/** A new link token for the user's current address; a new reset link spends the older ones. */
async function issueToken(
	db: Db,
	user: Pick<User, 'id' | 'email'>,
	purpose: Purpose,
	ttlSeconds: number
) {
	const token = randomBytes(32).toString('base64url');
	if (purpose === 'reset')
		await db
			.update(accountTokens)
			.set({ usedAt: sql`now()` })
			.where(
				and(
					eq(accountTokens.userId, user.id),
					eq(accountTokens.purpose, 'reset'),
					isNull(accountTokens.usedAt)
				)
			);
	await db.insert(accountTokens).values({
		userId: user.id,
		purpose,
		tokenHash: hashTokenId(token),
		email: user.email,
		expiresAt: sql`now() + make_interval(secs => ${ttlSeconds})`
	});
	return token;
}

const usable = (token: string, purpose: Purpose) =>
	and(
		eq(accountTokens.tokenHash, hashTokenId(token)),
		eq(accountTokens.purpose, purpose),
		isNull(accountTokens.usedAt),
		gt(accountTokens.expiresAt, sql`now()`)
	);

/** Spends the token in one statement, so two requests with it cannot both succeed. */
async function spend(db: Db, token: string, purpose: Purpose) {
	const [row] = await db
		.update(accountTokens)
		.set({ usedAt: sql`now()` })
		.where(usable(token, purpose))
		.returning();
	return row ?? null;
}

/** Whether the link still works, without spending it: opening a link must not use it up. */
export async function isUsable(deps: Deps, token: string, purpose: Purpose): Promise<boolean> {
	const [row] = await deps.db
		.select({ id: accountTokens.id })
		.from(accountTokens)
		.where(usable(token, purpose));
	return Boolean(row);
}

/**
 * Answers "sent" for any well-formed address once the rate limits allow it; the mail (if the
 * address has an account that may reset) goes out after the response.
 */
export async function requestReset(
	deps: Deps,
	email: string,
	client: Client,
	linkBase: string
): Promise<Done> {
	if (!deps.config.smtp) return { ok: false, status: 409, message: NO_MAIL };
	const rule = deps.config.accounts.emailRateLimit;
	const tooMany = await limited(deps, [
		{ key: `reset:email:${email}`, rule },
		{ key: `reset:ip:${client.ip ?? 'unknown'}`, rule: perClient(rule) }
	]);
	if (tooMany) return tooMany;
	background.run('password reset mail', () => mailReset(deps, email, client, linkBase));
	return { ok: true };
}

async function mailReset({ db, config }: Deps, email: string, client: Client, linkBase: string) {
	const [user] = await db.select().from(users).where(eq(users.email, email));
	// A refusal sends nothing and the answer stays the same: no account, disabled, or an address
	// the sign-in policy keeps to single sign-on.
	if (!user || user.disabledAt || !(await passwordAllowed(db, config, email))) return;
	const minutes = config.accounts.resetTtlMinutes;
	await audit.record(db, {
		actorId: user.id,
		action: 'account.password_reset_requested',
		ip: client.ip
	});
	const token = await issueToken(db, user, 'reset', minutes * 60);
	const link = `${linkBase}/reset-password?token=${token}`;
	await mail.send(config.smtp!, resetMail(user.email, link, minutes));
}

/**
 * Spends a reset link and sets the new password: every session of the account ends (tokens, sockets)
 * and this browser gets a fresh one. The link also proves the mailbox, so the address is confirmed.
 */
export async function resetPassword(
	deps: Deps,
	token: string,
	newPassword: string,
	client: Client
): Promise<Result<{ session: Session }>> {
	const { db, config } = deps;
	const tooMany = await limited(deps, [
		{ key: `link:ip:${client.ip ?? 'unknown'}`, rule: perClient(config.loginRateLimit) }
	]);
	if (tooMany) return tooMany;
	const spent = await spend(db, token, 'reset');
	if (!spent) return { ok: false, status: 400, message: LINK_SPENT };
	const passwordHash = await hashPassword(newPassword);
	// A link sent to an address the account no longer uses, or to a since-disabled account, is void.
	const [user] = await db
		.update(users)
		.set({
			passwordHash,
			tokenVersion: sql`${users.tokenVersion} + 1`,
			emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())`,
			updatedAt: sql`now()`
		})
		.where(and(eq(users.id, spent.userId), eq(users.email, spent.email), isNull(users.disabledAt)))
		.returning();
	if (!user) return { ok: false, status: 400, message: LINK_SPENT };
	await db
		.update(refreshTokens)
		.set({ revokedAt: sql`now()` })
		.where(and(eq(refreshTokens.userId, user.id), isNull(refreshTokens.revokedAt)));
	await signedOut(db, user.id);
	await audit.record(db, { actorId: user.id, action: 'account.password_reset', ip: client.ip });
	return { ok: true, session: await issueSession(deps, user, client) };
}

/** Sends the user a link that confirms their current address (after the response). */
export async function sendVerification(
	deps: Deps,
	user: Pick<User, 'id' | 'email' | 'emailVerifiedAt'>,
	linkBase: string
): Promise<Done> {
	const { db, config } = deps;
	if (!config.smtp) return { ok: false, status: 409, message: NO_MAIL };
	if (user.emailVerifiedAt)
		return { ok: false, status: 400, message: 'Your email address is already confirmed.' };
	const tooMany = await limited(deps, [
		{ key: `verify:user:${user.id}`, rule: config.accounts.emailRateLimit }
	]);
	if (tooMany) return tooMany;
	background.run('verification mail', async () => {
		const hours = config.accounts.verifyTtlHours;
		const token = await issueToken(db, user, 'verify', hours * 3600);
		const link = `${linkBase}/verify-email?token=${token}`;
		await mail.send(config.smtp!, verifyMail(user.email, link, hours));
	});
	return { ok: true };
}

/** Spends a verification link; the address is confirmed only if the account still uses it. */
export async function verifyEmail(deps: Deps, token: string, client: Client): Promise<Done> {
	const { db, config } = deps;
	const tooMany = await limited(deps, [
		{ key: `link:ip:${client.ip ?? 'unknown'}`, rule: perClient(config.loginRateLimit) }
	]);
	if (tooMany) return tooMany;
	const spent = await spend(db, token, 'verify');
	if (!spent) return { ok: false, status: 400, message: LINK_SPENT };
	const [user] = await db
		.update(users)
		.set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())`, updatedAt: sql`now()` })
		.where(and(eq(users.id, spent.userId), eq(users.email, spent.email)))
		.returning({ id: users.id });
	if (!user)
		return {
			ok: false,
			status: 400,
			message: 'This link was for an address your account no longer uses.'
		};
	await audit.record(db, { actorId: user.id, action: 'account.email_verified', ip: client.ip });
	return { ok: true };
}

/** The user's address and whether it is confirmed, for the account page. */
export async function accountEmail(db: Db, userId: string) {
	const [row] = await db
		.select({ id: users.id, email: users.email, emailVerifiedAt: users.emailVerifiedAt })
		.from(users)
		.where(eq(users.id, userId));
	return row ?? null;
}
