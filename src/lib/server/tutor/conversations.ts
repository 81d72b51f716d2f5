/**
 * Conversation queries. Every read and write takes the owner's id: a student never reaches another
 * student's conversation, not even by guessing an id.
 *
 * @example
 * const page = await conversations.list(db, userId, { query: 'loops', page: 1 });
 */
import { and, desc, eq, ilike, lt, ne, sql, type SQL } from 'drizzle-orm';
import { NOTICES, type ChatMessageView, type NoticeCode } from '#lib/ws/protocol.ts';
import { userMessageFor } from '#lib/server/ai/types.ts';
import { CHARS_PER_TOKEN, MESSAGE_TOKENS } from './prompt';
import { rowsOf, type Db } from '#lib/server/db/index.ts';
import { conversations, messages, type Conversation, type Message } from '#lib/server/db/schema.ts';

export const PAGE_SIZE = 20;
export const DEFAULT_TITLE = 'New conversation';
export const TITLE_MAX = 120;

/**
 * One page of the student's conversations, newest first. No total is counted (a year of chats is
 * thousands): one extra row says whether older ones exist.
 */
export async function list(db: Db, userId: string, options: { query?: string; page: number }) {
	const q = options.query?.trim();
	const rows = await db
		.select({
			id: conversations.id,
			title: conversations.title,
			updatedAt: conversations.updatedAt,
			generating: sql<boolean>`${conversations.generationId} is not null`
		})
		.from(conversations)
		.where(
			and(
				eq(conversations.userId, userId),
				q ? ilike(conversations.title, `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%`) : undefined
			)
		)
		.orderBy(desc(conversations.updatedAt), desc(conversations.id))
		.limit(PAGE_SIZE + 1)
		.offset((options.page - 1) * PAGE_SIZE);
	return { rows: rows.slice(0, PAGE_SIZE), hasOlder: rows.length > PAGE_SIZE, page: options.page };
}

export async function create(
	db: Db,
	userId: string,
	init: { title?: string; context?: Record<string, unknown> | null } = {}
): Promise<Conversation> {
	const [row] = await db
		.insert(conversations)
		.values({
			userId,
			title: init.title?.slice(0, TITLE_MAX) || DEFAULT_TITLE,
			context: init.context ?? null
		})
		.returning();
	return row!;
}

export async function get(db: Db, userId: string, id: string): Promise<Conversation | null> {
	const [row] = await db
		.select()
		.from(conversations)
		.where(and(eq(conversations.id, id), eq(conversations.userId, userId)));
	return row ?? null;
}

export async function rename(db: Db, userId: string, id: string, title: string) {
	const [row] = await db
		.update(conversations)
		.set({ title: title.slice(0, TITLE_MAX) })
		.where(and(eq(conversations.id, id), eq(conversations.userId, userId)))
		.returning({ id: conversations.id });
	return Boolean(row);
}

export async function remove(db: Db, userId: string, id: string) {
	const [row] = await db
		.delete(conversations)
		.where(and(eq(conversations.id, id), eq(conversations.userId, userId)))
		.returning({ id: conversations.id });
	return Boolean(row);
}

/** A short title from the first question, cut at a word boundary. */
export function titleFrom(text: string): string {
	const clean = text.replace(/\s+/g, ' ').trim();
	if (clean.length <= 60) return clean || DEFAULT_TITLE;
	const cut = clean.slice(0, 60);
	return cut.slice(0, Math.max(cut.lastIndexOf(' '), 40)).trimEnd() + '…';
}

export function toView(m: typeof messages.$inferSelect): ChatMessageView {
	return {
		id: m.id,
		role: m.role,
		content: m.content,
		status: m.status === 'superseded' ? 'complete' : m.status,
		errorKind: m.errorKind,
		errorMessage: m.errorKind ? userMessageFor(m.errorKind) : null,
		notice: m.notice && m.notice in NOTICES ? (m.notice as NoticeCode) : null,
		seq: m.seq
	};
}

/** Messages in a snapshot; earlier ones are read page by page as the student scrolls up. */
export const SNAPSHOT_MESSAGES = 50;

/** The newest `limit` shown messages before sequence number `before`, oldest first. */
function page(db: Db, id: string, limit: number, before?: number) {
	return db
		.select()
		.from(messages)
		.where(
			and(
				eq(messages.conversationId, id),
				ne(messages.status, 'superseded'),
				before === undefined ? undefined : lt(messages.seq, before)
			)
		)
		.orderBy(desc(messages.seq))
		.limit(limit + 1)
		.then((rows) => ({
			messages: rows.slice(0, limit).reverse().map(toView),
			hasEarlier: rows.length > limit
		}));
}

/**
 * The conversation as of one instant: its newest messages and the sequence number they include.
 * Read in one repeatable-read transaction, because an answer's text and the log advance together.
 * Only the newest messages can still change, so earlier pages never need this.
 */
export async function snapshot(db: Db, id: string, limit = SNAPSHOT_MESSAGES) {
	return db.transaction(
		async (tx) => {
			const [conversation] = await tx.select().from(conversations).where(eq(conversations.id, id));
			if (!conversation) return null;
			return { conversation, ...(await page(tx, id, limit)) };
		},
		{ isolationLevel: 'repeatable read', accessMode: 'read only' }
	);
}

/** A page of the student's own conversation before `before` (null when it is not theirs). */
export async function earlier(
	db: Db,
	userId: string,
	id: string,
	before: number,
	limit = SNAPSHOT_MESSAGES
) {
	return (await get(db, userId, id)) ? page(db, id, limit, before) : null;
}

/** `trimHistory`'s cost of a message besides its text, in characters. */
const MESSAGE_CHARS = MESSAGE_TOKENS * CHARS_PER_TOKEN;

/**
 * The newest messages a prompt of `tokens` (the history budget) can use, as a subquery: each one is
 * kept while the messages after it fit. It walks back one message at a time through the (conversation, seq)
 * index and stops there, so a long conversation costs what its prompt uses, not its length.
 */
export function recentMessages(conversationId: SQL, tokens: number, excluding?: string) {
	const shown = sql`m.conversation_id = ${conversationId} and m.status <> 'superseded'
		${excluding ? sql`and m.id <> ${excluding}::uuid` : sql``}`;
	const columns = sql`m.id, m.role, m.content, m.status, m.seq`;
	return sql`with recursive r as (
		(select ${columns}, 0::bigint as later from messages m where ${shown} order by m.seq desc limit 1)
		union all
		select p.*, r.later + length(r.content) + ${MESSAGE_CHARS} from r,
			lateral (select ${columns} from messages m where ${shown} and m.seq < r.seq
				order by m.seq desc limit 1) p
		where r.later + length(r.content) + ${MESSAGE_CHARS} < ${tokens * CHARS_PER_TOKEN}
	) select * from r`;
}

/** `recentMessages` on a history in memory (what a replica remembers), the same rule. */
export function recentHistory<T extends { content: string }>(history: T[], tokens: number): T[] {
	let i = history.length;
	for (let later = 0; i > 0 && later < tokens * CHARS_PER_TOKEN;)
		later += history[--i]!.content.length + MESSAGE_CHARS;
	return history.slice(i);
}

/** The history the tutor sees (oldest first): the newest messages that fit `tokens`, except one. */
export async function history(db: Db, id: string, tokens: number, excluding?: string) {
	const result = await db.execute(
		sql`select id, role, content, status from (${recentMessages(sql`${id}::uuid`, tokens, excluding)}) h order by seq`
	);
	return rowsOf<Pick<Message, 'id' | 'role' | 'content' | 'status'>>(result);
}
