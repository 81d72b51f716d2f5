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
import { and, asc, desc, eq, ilike, isNull, like, or, sql } from 'drizzle-orm';
import type { Config } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import {
	answers,
	auditLog,
	budgetAlerts,
	conversations,
	exerciseProgress,
	lessonProgress,
	llmUsage,
	messages,
	mockExams,
	rateLimits,
	refreshTokens,
	reviewCards,
	skillAssessments,
	skillLevels,
	spendDaily,
	studentNotebooks,
	users
} from '#lib/server/db/schema.ts';
import { countUpTo } from './count';
import { isAdminEmail } from './roles';
import { signedOut } from '#lib/server/ws/sessions.ts';

export const PAGE_SIZE = 25;

export interface Deps {
	db: Db;
	config: Config;
}

export type Role = 'student' | 'admin';

export type Refusal = { ok: false; status: 400 | 403 | 404 | 409; message: string };
export type Outcome<T = object> = ({ ok: true } & T) | Refusal;

const profileColumns = {
	id: users.id,
	email: users.email,
	displayName: users.displayName,
	role: users.role,
	disabledAt: users.disabledAt,
	createdAt: users.createdAt,
	updatedAt: users.updatedAt
};

/** One page of users, newest first, optionally filtered by email or name. */
export async function list(db: Db, options: { query?: string; page: number }) {
	const q = options.query?.trim();
	const pattern = q ? `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%` : undefined;
	const where = pattern
		? or(ilike(users.email, pattern), ilike(users.displayName, pattern))
		: undefined;
	const [rows, counted] = await Promise.all([
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
		countUpTo(db, users, where)
	]);
	return { rows, ...counted, page: options.page, pageSize: PAGE_SIZE };
}

/** The account as the admin pages show it (never the password hash), or null. */
export async function get(db: Db, id: string) {
	const [row] = await db.select(profileColumns).from(users).where(eq(users.id, id));
	return row ?? null;
}

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
 * Deletes the account once `confirmEmail` repeats its email. The schema's cascades remove its
 * sessions, conversations and messages, progress, notebooks, answers, mock exams, review cards,
 * assessments, levels and budget alerts; its daily spend and rate-limit counters are deleted here;
 * its usage rows and audit entries stay, without the link.
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
	// Rows keyed by the id as text (no foreign key to cascade): the daily spend and rate counters.
	const [deleted] = await db.transaction(async (tx) => {
		await tx.delete(spendDaily).where(eq(spendDaily.subject, id));
		await tx.delete(rateLimits).where(like(rateLimits.key, `%:user:${id}`));
		return tx
			.delete(users)
			.where(eq(users.id, id))
			.returning({ email: users.email, displayName: users.displayName });
	});
	if (!deleted) return gone();
	await signedOut(db, id);
	return { ok: true, ...deleted };
}

/**
 * Everything stored about one user, as plain data for a JSON download: the profile (no password
 * hash or token version), sessions (no token hashes), conversations with their messages, progress,
 * notebooks, practice answers, mock exams, review cards, assessments, levels, AI usage, budget
 * alerts, and the audit entries they made or that concern them.
 */
export async function exportData(db: Db, id: string) {
	const profile = await get(db, id);
	if (!profile) return null;
	const [
		sessions,
		convs,
		msgs,
		exercises,
		lessons,
		notebooks,
		answered,
		mocks,
		cards,
		assessments,
		levels,
		usage,
		alerts,
		audit
	] = await Promise.all([
		db
			.select({
				id: refreshTokens.id,
				familyId: refreshTokens.familyId,
				userAgent: refreshTokens.userAgent,
				createdAt: refreshTokens.createdAt,
				expiresAt: refreshTokens.expiresAt,
				usedAt: refreshTokens.usedAt,
				revokedAt: refreshTokens.revokedAt
			})
			.from(refreshTokens)
			.where(eq(refreshTokens.userId, id))
			.orderBy(asc(refreshTokens.createdAt)),
		db
			.select({
				id: conversations.id,
				title: conversations.title,
				context: conversations.context,
				createdAt: conversations.createdAt,
				updatedAt: conversations.updatedAt
			})
			.from(conversations)
			.where(eq(conversations.userId, id))
			.orderBy(asc(conversations.createdAt)),
		db
			.select({
				id: messages.id,
				conversationId: messages.conversationId,
				role: messages.role,
				content: messages.content,
				status: messages.status,
				errorKind: messages.errorKind,
				model: messages.model,
				usage: messages.usage,
				createdAt: messages.createdAt,
				updatedAt: messages.updatedAt
			})
			.from(messages)
			.innerJoin(conversations, eq(conversations.id, messages.conversationId))
			.where(eq(conversations.userId, id))
			.orderBy(asc(messages.conversationId), asc(messages.seq)),
		db.select().from(exerciseProgress).where(eq(exerciseProgress.userId, id)),
		db.select().from(lessonProgress).where(eq(lessonProgress.userId, id)),
		db.select().from(studentNotebooks).where(eq(studentNotebooks.userId, id)),
		db.select().from(answers).where(eq(answers.userId, id)).orderBy(asc(answers.answeredAt)),
		db.select().from(mockExams).where(eq(mockExams.userId, id)).orderBy(asc(mockExams.startedAt)),
		db.select().from(reviewCards).where(eq(reviewCards.userId, id)),
		db
			.select()
			.from(skillAssessments)
			.where(eq(skillAssessments.userId, id))
			.orderBy(asc(skillAssessments.startedAt)),
		db.select().from(skillLevels).where(eq(skillLevels.userId, id)),
		db.select().from(llmUsage).where(eq(llmUsage.userId, id)).orderBy(asc(llmUsage.createdAt)),
		db
			.select()
			.from(budgetAlerts)
			.where(eq(budgetAlerts.userId, id))
			.orderBy(asc(budgetAlerts.createdAt)),
		db
			.select()
			.from(auditLog)
			.where(or(eq(auditLog.actorId, id), eq(auditLog.targetId, id)))
			.orderBy(asc(auditLog.id))
	]);
	const byConversation = Map.groupBy(msgs, (m) => m.conversationId);
	return {
		format: 'ai-coding-tutor.user-export',
		version: 1,
		exportedAt: new Date().toISOString(),
		profile,
		sessions,
		conversations: convs.map((c) => ({
			...c,
			messages: (byConversation.get(c.id) ?? []).map(({ conversationId: _, ...m }) => m)
		})),
		exerciseProgress: exercises,
		lessonProgress: lessons,
		notebooks,
		practiceAnswers: answered,
		mockExams: mocks,
		reviewCards: cards,
		skillAssessments: assessments,
		skillLevels: levels,
		aiUsage: usage,
		budgetAlerts: alerts,
		auditLog: audit
	};
}
export type UserExport = NonNullable<Awaited<ReturnType<typeof exportData>>>;

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
