/**
 * The one implementation of "everything stored about a user", shared by the admin's export of any
 * account and a student's "Download my data".
 *
 * @example
 * const data = await exportData(db, user.id); // null when the account is gone
 */
import { asc, eq, or } from 'drizzle-orm';
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
	refreshTokens,
	reviewCards,
	skillAssessments,
	skillLevels,
	studentNotebooks
} from '#lib/server/db/schema.ts';
import { profile as get } from './profile';

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
