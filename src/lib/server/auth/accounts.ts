/**
 * Accounts and sessions: register, log in, rotate refresh tokens, log out (here or everywhere) and
 * change password. Pure server logic on a database and the configuration; the SvelteKit handle and
 * the WebSocket app both call it.
 *
 * @example
 * const result = await accounts.login(deps, { email, password }, { ip, userAgent });
 * if (result.ok) setSessionCookies(cookies, result.session);
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Config } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import { refreshTokens, users, type User } from '#lib/server/db/schema.ts';
import * as audit from '#lib/server/audit.ts';
import * as rateLimit from '#lib/server/rate-limit.ts';
import { logger } from '#lib/server/log.ts';
import { signedOut } from '#lib/server/ws/sessions.ts';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './password';
import { PASSWORD_REFUSED, passwordAllowed } from './policy';
import {
	hashTokenId,
	signAccessToken,
	signRefreshToken,
	verifyAccessToken,
	verifyRefreshToken
} from './tokens';

export interface Deps {
	db: Db;
	config: Config;
}

export interface Client {
	ip?: string | null;
	userAgent?: string | null;
}

/** What the rest of the app knows about the signed-in user. */
export interface SessionUser {
	id: string;
	email: string;
	displayName: string;
	role: 'student' | 'admin';
	createdAt: Date;
	/** The sign-in this request belongs to (its refresh family), when the token names one. */
	sessionId?: string;
}

export interface Session {
	user: SessionUser;
	accessToken: string;
	refreshToken: string;
	accessExpiresAt: Date;
	refreshExpiresAt: Date;
}

export type Failure = {
	ok: false;
	status: 400 | 401 | 403 | 409 | 429;
	message: string;
	field?: string;
	retryAfterSeconds?: number;
};
export type Result<T> = ({ ok: true } & T) | Failure;

/** The answer to a wrong current password (changing it, deleting the account). */
export const WRONG_PASSWORD: Failure = {
	ok: false,
	status: 400,
	field: 'currentPassword',
	message: 'Your current password is not correct.'
};

export function toSessionUser(user: User): SessionUser {
	const admin = user.role === 'admin';
	return {
		id: user.id,
		email: user.email,
		displayName: user.displayName,
		role: admin ? 'admin' : 'student',
		createdAt: user.createdAt
	};
}

/** Signs the user in on this browser: a new refresh family (or the next token of `familyId`). */
export async function issueSession(
	{ db, config }: Deps,
	user: User,
	client: Client,
	familyId: string = crypto.randomUUID()
): Promise<Session> {
	const tokenId = crypto.randomUUID();
	const refreshExpiresAt = new Date(Date.now() + config.refreshTokenTtlDays * 86_400_000);
	await db.insert(refreshTokens).values({
		userId: user.id,
		familyId,
		tokenHash: hashTokenId(tokenId),
		expiresAt: refreshExpiresAt,
		userAgent: client.userAgent?.slice(0, 300) ?? null
	});
	const [accessToken, refreshToken] = await Promise.all([
		signAccessToken(
			config.jwtSecret,
			{ userId: user.id, tokenVersion: user.tokenVersion, sessionId: familyId },
			config.accessTokenTtlSeconds
		),
		signRefreshToken(config.jwtSecret, {
			userId: user.id,
			familyId,
			tokenId,
			expiresAt: refreshExpiresAt
		})
	]);
	return {
		user: { ...toSessionUser(user), sessionId: familyId },
		accessToken,
		refreshToken,
		accessExpiresAt: new Date(Date.now() + config.accessTokenTtlSeconds * 1000),
		refreshExpiresAt
	};
}

/** Counts a hit on each key in turn; the first one over its rule answers 429. */
export async function limited(
	deps: Deps,
	checks: { key: string; rule: rateLimit.RateLimitRule }[]
): Promise<Failure | null> {
	for (const { key, rule } of checks) {
		const r = await rateLimit.hit(deps.db, key, rule);
		if (!r.allowed) {
			const minutes = Math.ceil(r.retryAfterSeconds / 60);
			return {
				ok: false,
				status: 429,
				message: `Too many attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
				retryAfterSeconds: r.retryAfterSeconds
			};
		}
	}
	return null;
}

/** Creates the account without signing in (when the address must be confirmed first). */
export async function createAccount(
	deps: Deps,
	input: { email: string; displayName: string; password: string },
	client: Client
): Promise<Result<{ user: User }>> {
	const tooMany = await limited(deps, [
		{ key: `register:ip:${client.ip ?? 'unknown'}`, rule: deps.config.registerRateLimit }
	]);
	if (tooMany) return tooMany;
	if (!(await passwordAllowed(deps.db, deps.config, input.email)))
		return { ok: false, status: 403, field: 'email', message: PASSWORD_REFUSED };
	const passwordHash = await hashPassword(input.password);
	const [user] = await deps.db
		.insert(users)
		.values({ email: input.email, displayName: input.displayName, passwordHash })
		.onConflictDoNothing({ target: users.email })
		.returning();
	if (!user)
		return {
			ok: false,
			status: 409,
			field: 'email',
			message: 'An account with this email already exists. Log in instead?'
		};
	await audit.record(deps.db, { actorId: user.id, action: 'account.register', ip: client.ip });
	logger().info({ userId: user.id }, 'account registered');
	return { ok: true, user };
}

/** Creates the account and signs it in on this browser. */
export async function register(
	deps: Deps,
	input: { email: string; displayName: string; password: string },
	client: Client
): Promise<Result<{ session: Session }>> {
	const created = await createAccount(deps, input, client);
	if (!created.ok) return created;
	return { ok: true, session: await issueSession(deps, created.user, client) };
}

/**
 * Signs in with email and password. With REQUIRE_EMAIL_VERIFICATION an unconfirmed account is
 * refused after the password checked out, and `onUnverified` may send it a new link.
 */
export async function login(
	deps: Deps,
	input: { email: string; password: string },
	client: Client,
	onUnverified?: (user: User) => Promise<unknown>
): Promise<Result<{ session: Session }>> {
	const rule = deps.config.loginRateLimit;
	const tooMany = await limited(deps, [
		{ key: `login:email:${input.email}`, rule },
		// One classroom shares an address: the per-address allowance is ten times the per-account one.
		{
			key: `login:ip:${client.ip ?? 'unknown'}`,
			rule: { limit: rule.limit * 10, windowSeconds: rule.windowSeconds }
		}
	]);
	if (tooMany) return tooMany;
	if (!(await passwordAllowed(deps.db, deps.config, input.email)))
		return { ok: false, status: 403, message: PASSWORD_REFUSED };
	const [user] = await deps.db.select().from(users).where(eq(users.email, input.email));
	const valid = user
		? await verifyPassword(user.passwordHash, input.password)
		: await verifyAgainstDummy(input.password);
	if (!user || !valid) {
		logger().info({ outcome: 'bad-credentials' }, 'login refused');
		return { ok: false, status: 400, message: 'Email or password is incorrect.' };
	}
	if (user.disabledAt)
		return { ok: false, status: 403, message: 'This account is disabled. Contact your teacher.' };
	if (deps.config.accounts.requireEmailVerification && !user.emailVerifiedAt) {
		await onUnverified?.(user);
		return { ok: false, status: 403, message: 'Confirm your email first; we sent a new link.' };
	}
	await audit.record(deps.db, { actorId: user.id, action: 'account.login', ip: client.ip });
	return { ok: true, session: await issueSession(deps, user, client) };
}

/**
 * Checks an access token: its user still exists and is enabled, has not logged out everywhere, and
 * the sign-in it belongs to has not logged out.
 */
export async function userFromAccessToken(deps: Deps, token: string): Promise<SessionUser | null> {
	const claims = await verifyAccessToken(deps.config.jwtSecret, token);
	if (!claims) return null;
	const sessionEnded = claims.sessionId
		? sql<boolean>`exists (select 1 from ${refreshTokens} where ${refreshTokens.familyId} = ${claims.sessionId} and ${refreshTokens.revokedAt} is not null)`
		: sql<boolean>`false`;
	const [row] = await deps.db
		.select({ user: users, sessionEnded })
		.from(users)
		.where(eq(users.id, claims.userId));
	const user = row?.user;
	if (!user || row.sessionEnded || user.disabledAt || user.tokenVersion !== claims.tokenVersion)
		return null;
	return { ...toSessionUser(user), sessionId: claims.sessionId };
}

export type RefreshOutcome =
	| { kind: 'rotated'; session: Session }
	/** Another request rotated this token a moment ago; not an attack, just no session here. */
	| { kind: 'raced' }
	| { kind: 'invalid' };

/**
 * Spends a refresh token and mints the next one in the same family. A token spent twice (outside a
 * short grace window for parallel requests) means it was stolen: the whole family is revoked.
 */
export async function rotate(deps: Deps, token: string, client: Client): Promise<RefreshOutcome> {
	const { db, config } = deps;
	const claims = await verifyRefreshToken(config.jwtSecret, token);
	if (!claims) return { kind: 'invalid' };
	const tokenHash = hashTokenId(claims.tokenId);
	const [row] = await db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
	if (!row || row.revokedAt || row.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' };

	const [spent] = await db
		.update(refreshTokens)
		.set({ usedAt: sql`now()` })
		.where(and(eq(refreshTokens.id, row.id), isNull(refreshTokens.usedAt)))
		.returning({ id: refreshTokens.id });
	if (!spent) {
		const [again] = await db.select().from(refreshTokens).where(eq(refreshTokens.id, row.id));
		const usedAt = again?.usedAt?.getTime() ?? 0;
		if (again && !again.revokedAt && Date.now() - usedAt <= config.refreshReuseGraceSeconds * 1000)
			return { kind: 'raced' };
		await revokeFamily(db, row.familyId);
		await audit.record(db, {
			actorId: row.userId,
			action: 'account.refresh_reuse_detected',
			detail: { familyId: row.familyId },
			ip: client.ip
		});
		logger().warn({ userId: row.userId }, 'refresh token reused; session family revoked');
		return { kind: 'invalid' };
	}
	const [user] = await db.select().from(users).where(eq(users.id, row.userId));
	if (!user || user.disabledAt) return { kind: 'invalid' };
	return { kind: 'rotated', session: await issueSession(deps, user, client, row.familyId) };
}

async function revokeFamily(db: Db, familyId: string) {
	await db
		.update(refreshTokens)
		.set({ revokedAt: sql`now()` })
		.where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

/**
 * Ends this browser's session at once: its refresh family can no longer be used, its access tokens
 * stop working, and its open sockets close on every replica.
 */
export async function logout(
	deps: Deps,
	tokens: { refreshToken?: string; user?: SessionUser | null }
) {
	const claims = tokens.refreshToken
		? await verifyRefreshToken(deps.config.jwtSecret, tokens.refreshToken)
		: null;
	const userId = claims?.userId ?? tokens.user?.id;
	const sessionId = claims?.familyId ?? tokens.user?.sessionId;
	if (!userId || !sessionId) return;
	await revokeFamily(deps.db, sessionId);
	await signedOut(deps.db, userId, sessionId);
}

/** Ends every session of the user, on every device, including access tokens already issued. */
export async function logoutEverywhere(deps: Deps, userId: string, client: Client) {
	await deps.db
		.update(users)
		.set({ tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: sql`now()` })
		.where(eq(users.id, userId));
	await deps.db
		.update(refreshTokens)
		.set({ revokedAt: sql`now()` })
		.where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
	await signedOut(deps.db, userId);
	await audit.record(deps.db, {
		actorId: userId,
		action: 'account.logout_everywhere',
		ip: client.ip
	});
}

/** Changes the password, signs out every other device and returns a fresh session for this one. */
export async function changePassword(
	deps: Deps,
	userId: string,
	input: { currentPassword: string; newPassword: string },
	client: Client
): Promise<Result<{ session: Session }>> {
	const tooMany = await limited(deps, [
		{ key: `password:user:${userId}`, rule: deps.config.loginRateLimit }
	]);
	if (tooMany) return tooMany;
	const [user] = await deps.db.select().from(users).where(eq(users.id, userId));
	if (!user) return { ok: false, status: 401, message: 'Your session has ended. Log in again.' };
	if (!(await verifyPassword(user.passwordHash, input.currentPassword))) return WRONG_PASSWORD;
	const passwordHash = await hashPassword(input.newPassword);
	const [updated] = await deps.db
		.update(users)
		.set({ passwordHash, tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: sql`now()` })
		.where(eq(users.id, userId))
		.returning();
	await deps.db
		.update(refreshTokens)
		.set({ revokedAt: sql`now()` })
		.where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
	await signedOut(deps.db, userId);
	await audit.record(deps.db, {
		actorId: userId,
		action: 'account.password_changed',
		ip: client.ip
	});
	return { ok: true, session: await issueSession(deps, updated!, client) };
}
