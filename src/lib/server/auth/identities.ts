/**
 * Accounts behind single sign-on: a provider identity (provider + subject) signs in the user it is
 * linked to; a new identity links to the account with the same email only when the provider
 * verified that email, or creates an account for it. A signed-in user links or unlinks providers.
 *
 * @example
 * const result = await identities.signIn(deps, provider, profile, client);
 * if (result.ok) setSessionCookies(cookies, config, url, result.session);
 */
import { and, eq, ne, sql } from 'drizzle-orm';
import type { SsoProvider } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import { userIdentities, users, type User } from '#lib/server/db/schema.ts';
import * as audit from '#lib/server/audit.ts';
import { logger } from '#lib/server/log.ts';
import { LIMITS } from '#lib/validation/account.ts';
import { ssoMessage, type SsoCode } from '#lib/auth/sso-messages.ts';
import { issueSession, type Client, type Deps, type Result, type Session } from './accounts';
import type { Profile } from './sso';

type Refusal = { ok: false; status: 403 | 409; code: SsoCode; message: string };
const refused = (status: 403 | 409, code: SsoCode, provider: string): Refusal => ({
	ok: false,
	status,
	code,
	message: ssoMessage(code, provider)!
});

function nameFor(profile: Profile) {
	const name = (profile.name ?? profile.email?.split('@')[0] ?? 'Student').trim();
	return name.slice(0, LIMITS.nameMax) || 'Student';
}

/** Signs in (or up) with a provider's profile; never links an unverified email to an account. */
export async function signIn(
	deps: Deps,
	provider: SsoProvider,
	profile: Profile,
	client: Client
): Promise<{ ok: true; session: Session; created: boolean } | Refusal> {
	const { db } = deps;
	const [linked] = await db
		.select({ user: users })
		.from(userIdentities)
		.innerJoin(users, eq(users.id, userIdentities.userId))
		.where(
			and(eq(userIdentities.provider, provider.id), eq(userIdentities.subject, profile.subject))
		);
	let user: User | undefined = linked?.user;
	let created = false;
	if (!user) {
		if (!profile.email || !profile.emailVerified) {
			await audit.record(db, {
				actorId: null,
				action: 'sso.refused',
				detail: { provider: provider.id, reason: 'unverified_email' },
				ip: client.ip
			});
			return refused(403, 'unverified', provider.name);
		}
		[user] = await db.select().from(users).where(eq(users.email, profile.email));
		if (user?.disabledAt) return refused(403, 'disabled', provider.name);
		if (!user) {
			[user] = await db
				.insert(users)
				.values({
					email: profile.email,
					displayName: nameFor(profile),
					passwordHash: null,
					emailVerifiedAt: sql`now()`
				})
				.onConflictDoNothing({ target: users.email })
				.returning();
			// Another request created it a moment ago: link to that one.
			user ??= (await db.select().from(users).where(eq(users.email, profile.email)))[0]!;
			created = true;
			await audit.record(db, {
				actorId: user.id,
				action: 'account.register',
				detail: { provider: provider.id },
				ip: client.ip
			});
		}
		await db
			.insert(userIdentities)
			.values({
				userId: user.id,
				provider: provider.id,
				subject: profile.subject,
				email: profile.email
			})
			.onConflictDoNothing();
		if (!user.emailVerifiedAt)
			await db
				.update(users)
				.set({ emailVerifiedAt: sql`now()` })
				.where(eq(users.id, user.id));
		if (!created)
			await audit.record(db, {
				actorId: user.id,
				action: 'sso.link',
				detail: { provider: provider.id, by: 'verified_email' },
				ip: client.ip
			});
	}
	if (user.disabledAt) return refused(403, 'disabled', provider.name);
	await db
		.update(userIdentities)
		.set({ lastUsedAt: sql`now()`, email: profile.email })
		.where(
			and(eq(userIdentities.provider, provider.id), eq(userIdentities.subject, profile.subject))
		);
	await audit.record(db, {
		actorId: user.id,
		action: 'account.login',
		detail: { provider: provider.id },
		ip: client.ip
	});
	logger().info({ userId: user.id, provider: provider.id, created }, 'signed in with a provider');
	return { ok: true, created, session: await issueSession(deps, user, client) };
}

/** Links a provider to the signed-in user (who proved both sides), unless it belongs to someone else. */
export async function link(
	db: Db,
	userId: string,
	provider: SsoProvider,
	profile: Profile,
	client: Client
): Promise<{ ok: true } | Refusal> {
	const [row] = await db
		.insert(userIdentities)
		.values({ userId, provider: provider.id, subject: profile.subject, email: profile.email })
		.onConflictDoNothing()
		.returning({ id: userIdentities.id });
	if (!row) {
		const [existing] = await db
			.select({ userId: userIdentities.userId })
			.from(userIdentities)
			.where(
				and(eq(userIdentities.provider, provider.id), eq(userIdentities.subject, profile.subject))
			);
		if (existing?.userId !== userId) return refused(409, 'taken', provider.name);
		return { ok: true };
	}
	await audit.record(db, {
		actorId: userId,
		action: 'sso.link',
		detail: { provider: provider.id, by: 'signed_in' },
		ip: client.ip
	});
	return { ok: true };
}

/** Whether the identity belongs to the user (re-authentication through a provider). */
export async function owns(db: Db, userId: string, providerId: string, subject: string) {
	const [row] = await db
		.select({ id: userIdentities.id })
		.from(userIdentities)
		.where(
			and(
				eq(userIdentities.userId, userId),
				eq(userIdentities.provider, providerId),
				eq(userIdentities.subject, subject)
			)
		);
	return Boolean(row);
}

/** Unlinks a provider, unless it is the only way left to sign in. */
export async function unlink(
	db: Db,
	userId: string,
	providerId: string,
	client: Client
): Promise<Result<object>> {
	const [me] = await db
		.select({ password: users.passwordHash })
		.from(users)
		.where(eq(users.id, userId));
	const [other] = await db
		.select({ id: userIdentities.id })
		.from(userIdentities)
		.where(and(eq(userIdentities.userId, userId), ne(userIdentities.provider, providerId)))
		.limit(1);
	if (!me?.password && !other)
		return {
			ok: false,
			status: 409,
			message:
				'This is your only way to sign in. Set a password first (use "Forgot password?" on the login page).'
		};
	const [gone] = await db
		.delete(userIdentities)
		.where(and(eq(userIdentities.userId, userId), eq(userIdentities.provider, providerId)))
		.returning({ id: userIdentities.id });
	if (gone)
		await audit.record(db, {
			actorId: userId,
			action: 'sso.unlink',
			detail: { provider: providerId },
			ip: client.ip
		});
	return { ok: true };
}

/** The providers linked to a user, for the account page. */
export function list(db: Db, userId: string) {
	return db
		.select({
			provider: userIdentities.provider,
			email: userIdentities.email,
			createdAt: userIdentities.createdAt,
			lastUsedAt: userIdentities.lastUsedAt
		})
		.from(userIdentities)
		.where(eq(userIdentities.userId, userId))
		.orderBy(userIdentities.createdAt);
}
