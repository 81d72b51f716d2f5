/**
 * The one implementation of "everything stored about a user", shared by the admin's export of any
 * account and a student's "Download my data".
 *
 * @example
 * const download = await exportStream(db, user.id); // null when the account is gone
 * return new Response(download.body);
 */
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
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

/** Conversations read per statement: their messages are read together, then written out. */
export const CONVERSATIONS_PER_READ = 200;

/** `value` as JSON.stringify(value, null, 2) writes it at `depth` levels of nesting. */
const pretty = (value: unknown, depth: number) =>
	JSON.stringify(value, null, 2).replaceAll('\n', '\n' + '  '.repeat(depth));

/** Text as a byte stream, each piece read only when the client takes more. */
function readable(pieces: AsyncGenerator<string>) {
	const encoder = new TextEncoder();
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			const next = await pieces.next();
			if (next.done) controller.close();
			else controller.enqueue(encoder.encode(next.value));
		},
		async cancel() {
			await pieces.return(undefined);
		}
	});
}

/**
 * The array under a top-level key, as JSON.stringify(…, null, 2) would write it, one piece of text
 * per batch of items.
 */
async function* array(key: string, batches: AsyncIterable<unknown[]>) {
	let first = true;
	for await (const batch of batches) {
		if (!batch.length) continue;
		const items = batch.map((item) => '    ' + pretty(item, 2)).join(',\n');
		yield (first ? `  ${JSON.stringify(key)}: [\n` : ',\n') + items;
		first = false;
	}
	yield first ? `  ${JSON.stringify(key)}: []` : '\n  ]';
}

/** A statement's rows as one batch. */
async function* all(rows: PromiseLike<unknown[]>) {
	yield await rows;
}

/** The user's conversations, oldest first, each with its messages, a batch at a time. */
async function* conversationsOf(db: Db, id: string) {
	let after: string | null = null;
	for (;;) {
		const batch = await db
			.select({
				id: conversations.id,
				title: conversations.title,
				context: conversations.context,
				createdAt: conversations.createdAt,
				updatedAt: conversations.updatedAt
			})
			.from(conversations)
			.where(
				and(
					eq(conversations.userId, id),
					// Compared in SQL: a JS Date would drop the microseconds and repeat a batch forever.
					after
						? sql`(${conversations.createdAt}, ${conversations.id}) > (select created_at, id from conversations where id = ${after}::uuid)`
						: undefined
				)
			)
			.orderBy(asc(conversations.createdAt), asc(conversations.id))
			.limit(CONVERSATIONS_PER_READ);
		if (!batch.length) return;
		const msgs = await db
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
			.where(
				inArray(
					messages.conversationId,
					batch.map((c) => c.id)
				)
			)
			.orderBy(asc(messages.conversationId), asc(messages.seq));
		const byConversation = Map.groupBy(msgs, (m) => m.conversationId);
		yield batch.map((c) => ({
			...c,
			messages: (byConversation.get(c.id) ?? []).map(({ conversationId: _, ...m }) => m)
		}));
		after = batch.at(-1)!.id;
	}
}

/**
 * Everything stored about one user, as the JSON text of a download, written as it is read (a
 * year of tutoring is tens of megabytes): the profile (no password hash or token version),
 * sessions (no token hashes), conversations with their messages, progress, notebooks, practice
 * answers, mock exams, review cards, assessments, levels, AI usage, budget alerts, and the audit
 * entries they made or that concern them. Null when the account is gone.
 */
export async function exportStream(db: Db, id: string) {
	const profile = await get(db, id);
	if (!profile) return null;
	const sections: [string, () => AsyncIterable<unknown[]> | PromiseLike<unknown[]>][] = [
		[
			'sessions',
			() =>
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
					.orderBy(asc(refreshTokens.createdAt))
		],
		['conversations', () => conversationsOf(db, id)],
		[
			'exerciseProgress',
			() => db.select().from(exerciseProgress).where(eq(exerciseProgress.userId, id))
		],
		['lessonProgress', () => db.select().from(lessonProgress).where(eq(lessonProgress.userId, id))],
		['notebooks', () => db.select().from(studentNotebooks).where(eq(studentNotebooks.userId, id))],
		[
			'practiceAnswers',
			() => db.select().from(answers).where(eq(answers.userId, id)).orderBy(asc(answers.answeredAt))
		],
		[
			'mockExams',
			() =>
				db
					.select()
					.from(mockExams)
					.where(eq(mockExams.userId, id))
					.orderBy(asc(mockExams.startedAt))
		],
		['reviewCards', () => db.select().from(reviewCards).where(eq(reviewCards.userId, id))],
		[
			'skillAssessments',
			() =>
				db
					.select()
					.from(skillAssessments)
					.where(eq(skillAssessments.userId, id))
					.orderBy(asc(skillAssessments.startedAt))
		],
		['skillLevels', () => db.select().from(skillLevels).where(eq(skillLevels.userId, id))],
		[
			'aiUsage',
			() =>
				db.select().from(llmUsage).where(eq(llmUsage.userId, id)).orderBy(asc(llmUsage.createdAt))
		],
		[
			'budgetAlerts',
			() =>
				db
					.select()
					.from(budgetAlerts)
					.where(eq(budgetAlerts.userId, id))
					.orderBy(asc(budgetAlerts.createdAt))
		],
		[
			'auditLog',
			() =>
				db
					.select()
					.from(auditLog)
					.where(or(eq(auditLog.actorId, id), eq(auditLog.targetId, id)))
					.orderBy(asc(auditLog.id))
		]
	];
	const head = {
		format: 'ai-coding-tutor.user-export',
		version: 1,
		exportedAt: new Date().toISOString(),
		profile
	};
	async function* text() {
		const fields = Object.entries(head).map(
			([k, v]) => `  ${JSON.stringify(k)}: ${pretty(v, 1)},\n`
		);
		yield '{\n' + fields.join('');
		for (const [i, [key, read]] of sections.entries()) {
			const rows = read();
			// A query builder is awaited (some drivers' builders are async iterables of another kind).
			yield* array(key, 'then' in rows ? all(rows) : rows);
			yield i < sections.length - 1 ? ',\n' : '\n}';
		}
	}
	return { profile, exportedAt: head.exportedAt, body: readable(text()) };
}

export type UserExport = NonNullable<Awaited<ReturnType<typeof exportStream>>>;
