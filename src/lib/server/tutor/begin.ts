/**
 * The send statement: the database side of a new question in one round trip (see `begin`).
 *
 * @example
 * const begun = await begin(db, { userId, conversationId, clientId, text, model, ... });
 * if (begun.status === 'busy') refuse();
 */
import { sql } from 'drizzle-orm';
import type { ChatMessage } from '#lib/server/ai/types.ts';
import type { LogEvent } from '#lib/ws/protocol.ts';
import { rowsOf, type Db } from '#lib/server/db/index.ts';
import type { SkillLevel } from '#lib/server/db/schema-practice.ts';
import { levelOf } from '#lib/server/practice/diagnostic.ts';
import { countHit } from '#lib/server/rate-limit.ts';
import * as convos from './conversations';

/** Who claims the conversation, and for how long. */
export interface Lease {
	replicaId: string;
	leaseSeconds: number;
}

/**
 * The database side of a question, as one statement: counts it against the student's rate
 * limit, locks the conversation, refuses a duplicate or a second generation, reads the history,
 * inserts the question and the empty answer, claims the conversation with a lease and logs both
 * events. Other replicas hear of the question from the next save, not from a NOTIFY here:
 * PostgreSQL commits notifying transactions one at a time, and one in every question made all
 * questions queue for it.
 */
export async function begin(
	db: Db,
	input: Lease & {
		userId: string;
		conversationId: string;
		clientId: string;
		text: string;
		model: string;
		rateLimit: { limit: number; windowSeconds: number };
		/** The history budget of the prompt, in tokens: only that much history is read. */
		historyTokens: number;
	}
) {
	const { userId, conversationId, clientId, text } = input;
	const generationId = crypto.randomUUID();
	const userMessageId = crypto.randomUUID();
	const answerId = crypto.randomUUID();
	const { limit, windowSeconds } = input.rateLimit;
	const title = convos.titleFrom(text);
	const result = await db.execute(
		beginStatement({
			rateKey: `tutor:user:${userId}`,
			windowSeconds,
			limit,
			conversationId,
			userId,
			clientId,
			text,
			userMessageId,
			answerId,
			historyTokens: input.historyTokens,
			generationId,
			model: input.model,
			replicaId: input.replicaId,
			leaseSeconds: input.leaseSeconds,
			defaultTitle: convos.DEFAULT_TITLE,
			title
		})
	);
	const [row] = rowsOf<{
		rate_count: number;
		retry_after: string | number;
		found: boolean;
		duplicate: boolean;
		last_seq: number | null;
		title: string | null;
		context: unknown;
		history: ChatMessage[] | null;
		levels: SkillLevel[] | null;
		written: number | string;
	}>(result);
	if (!row) throw new Error('send statement returned no row');
	if (Number(row.rate_count) > limit)
		return {
			status: 'rate_limited' as const,
			retryAfterSeconds: Math.max(1, Math.ceil(Number(row.retry_after)))
		};
	if (!row.found) return { status: 'not_found' as const };
	if (row.duplicate) return { status: 'duplicate' as const };
	if (row.last_seq === null) return { status: 'busy' as const };
	if (Number(row.written) !== 5) throw new Error('send statement wrote an unexpected row count');
	const seq = Number(row.last_seq);
	const history = row.history ?? [];
	const events: LogEvent[] = [
		{ seq: seq + 1, type: 'user', messageId: userMessageId, text, clientId },
		{ seq: seq + 2, type: 'start', messageId: answerId }
	];
	return {
		status: 'ok' as const,
		generationId,
		answerId,
		seq: seq + 2,
		events,
		history,
		context: row.context,
		level: levelOf(row.levels ?? []),
		title: row.title === convos.DEFAULT_TITLE ? title : null
	};
}

/** The send statement (see `begin`): rate limit, lock, duplicate and busy checks, history, both messages, the claim and the log. */
function beginStatement(v: Record<string, unknown>) {
	return sql`
			with rl as (${countHit(sql`${v.rateKey}`, sql`${v.windowSeconds}`)}),
			c as (
				select id, last_seq, generation_id, title, context from conversations
				where id = ${v.conversationId}::uuid and user_id = ${v.userId}::uuid and (select count from rl) <= ${v.limit}::int
				for update
			),
			dup as (
				select 1 from messages where conversation_id = ${v.conversationId}::uuid and client_id = ${v.clientId}::text
			),
			ok as (
				select * from c where generation_id is null and not exists (select 1 from dup)
			),
			hist as (
				select coalesce(jsonb_agg(jsonb_build_object('role', r.role, 'content', r.content) order by r.seq), '[]'::jsonb) as h
				from (${convos.recentMessages(sql`${v.conversationId}::uuid`, Number(v.historyTokens))}) r
				where exists (select 1 from ok)
			),
			um as (
				insert into messages (id, conversation_id, role, content, status, client_id, seq)
				select ${v.userMessageId}::uuid, ok.id, 'user', ${v.text}::text, 'complete', ${v.clientId}::text, ok.last_seq + 1 from ok
				returning id
			),
			am as (
				insert into messages (id, conversation_id, role, content, status, seq, model)
				select ${v.answerId}::uuid, ok.id, 'assistant', '', 'streaming', ok.last_seq + 2, ${v.model}::text from ok
				returning id
			),
			up as (
				update conversations set
					generation_id = ${v.generationId}::uuid,
					lease_owner = ${v.replicaId}::text,
					lease_expires_at = now() + make_interval(secs => ${v.leaseSeconds}::float8),
					last_seq = ok.last_seq + 2,
					updated_at = now(),
					title = case when ok.title = ${v.defaultTitle}::text then ${v.title}::text else conversations.title end
				from ok where conversations.id = ok.id
				returning conversations.id
			),
			lv as (
				select coalesce(jsonb_agg(level), '[]'::jsonb) as levels from skill_levels where user_id = ${v.userId}::uuid
			),
			ev as (
				insert into conversation_events (conversation_id, seq, first_seq, type, data)
				select ok.id, ok.last_seq + 1, ok.last_seq + 1, 'user',
					jsonb_build_object('messageId', ${v.userMessageId}::text, 'text', ${v.text}::text, 'clientId', ${v.clientId}::text)
				from ok
				union all
				select ok.id, ok.last_seq + 2, ok.last_seq + 2, 'start', jsonb_build_object('messageId', ${v.answerId}::text)
				from ok
				returning seq
			)
			select
				(select count from rl) as rate_count,
				(select retry_after from rl) as retry_after,
				exists (select 1 from c) as found,
				exists (select 1 from dup) as duplicate,
				ok.last_seq, ok.title, ok.context,
				(select h from hist) as history,
				(select levels from lv) as levels,
				(select count(*) from um) + (select count(*) from am) + (select count(*) from up) + (select count(*) from ev) as written
			from (select 1) as one left join ok on true`;
}
