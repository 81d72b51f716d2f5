/**
 * Every statement of the durable session: begin a question (begin.ts), restart an answer (continue or
 * regenerate), save a batch of answers' events, text and leases (idempotent: a retry after a lost
 * reply writes nothing twice), and close answers whose owner stopped renewing its lease.
 *
 * @example
 * const begun = await store.begin(db, { userId, conversationId, clientId, text, ... });
 * const kept = await store.save(background, items, leaseSeconds, replicaId);
 */
import { and, desc, eq, ne, sql } from 'drizzle-orm';
import type { LogEvent } from '#lib/ws/protocol.ts';
import { rowsOf, type Db } from '#lib/server/db/index.ts';
import { conversations, messages } from '#lib/server/db/schema.ts';
import * as log from './log';

import type { Lease } from './begin';

export { begin } from './begin';

/** Sequence numbers skipped when a dead owner's answer is closed: more than it may hold unsaved. */
export const RECOVERY_GAP = 1000;
export const EVENTS_CHANNEL = 'tutor_events';
export const CONTROL_CHANNEL = 'tutor_control';
/**
 * A save tells other replicas about every conversation it wrote in a few notifications, not one
 * each: up to this many `conversation|seq|replica` notices (about 80 bytes) per payload, well
 * under PostgreSQL's 8000-byte limit.
 */
const NOTICES_PER_PAYLOAD = 80;

/** The student's conversation, locked until the transaction ends (one writer at a time). */
async function lockConversation(tx: Db, userId: string, conversationId: string) {
	const [conversation] = await tx
		.select()
		.from(conversations)
		.where(and(eq(conversations.id, conversationId), eq(conversations.userId, userId)))
		.for('update');
	return conversation;
}

/** Why a continue or regenerate was refused. */
export type RestartRefusal = 'not_found' | 'busy' | 'no_answer' | 'complete';
const refused = (reason: RestartRefusal) => ({ ok: false as const, reason });

/**
 * Claims the conversation for a new answer that continues the last one (`continue`, after a
 * stop, an interruption or an error) or replaces it (`regenerate`).
 */
export async function restart(
	db: Db,
	input: Lease & {
		userId: string;
		conversationId: string;
		mode: 'continue' | 'regenerate';
		model: string;
	}
) {
	const { userId, conversationId, mode } = input;
	return db.transaction(async (tx) => {
		const conversation = await lockConversation(tx, userId, conversationId);
		if (!conversation) return refused('not_found');
		if (conversation.generationId) return refused('busy');
		const [last] = await tx
			.select()
			.from(messages)
			.where(and(eq(messages.conversationId, conversationId), ne(messages.status, 'superseded')))
			.orderBy(desc(messages.seq))
			.limit(1);
		if (!last || last.role !== 'assistant') return refused('no_answer');
		if (mode === 'continue' && !['stopped', 'interrupted', 'error'].includes(last.status))
			return refused('complete');
		const seq = conversation.lastSeq + 1;
		const generationId = crypto.randomUUID();
		let messageId = last.id;
		let prefix = last.content;
		let event: LogEvent;
		if (mode === 'continue') {
			await tx
				.update(messages)
				.set({ status: 'streaming', errorKind: null, updatedAt: sql`now()` })
				.where(eq(messages.id, last.id));
			event = { seq, type: 'start', messageId, continued: true };
		} else {
			await tx
				.update(messages)
				.set({ status: 'superseded', updatedAt: sql`now()` })
				.where(eq(messages.id, last.id));
			const [answer] = await tx
				.insert(messages)
				.values({
					conversationId,
					role: 'assistant',
					content: '',
					status: 'streaming',
					seq,
					model: input.model
				})
				.returning({ id: messages.id });
			messageId = answer!.id;
			prefix = '';
			event = { seq, type: 'start', messageId, replaces: last.id };
		}
		await claim(tx, {
			conversationId,
			generationId,
			lastSeq: seq,
			replicaId: input.replicaId,
			leaseSeconds: input.leaseSeconds
		});
		await log.append(tx, conversationId, [event]);
		return { ok: true as const, generationId, messageId, seq, event, prefix };
	});
}

async function claim(
	tx: Db,
	c: Lease & { conversationId: string; generationId: string; lastSeq: number }
) {
	await tx
		.update(conversations)
		.set({
			generationId: c.generationId,
			leaseOwner: c.replicaId,
			leaseExpiresAt: sql`now() + make_interval(secs => ${c.leaseSeconds})`,
			lastSeq: c.lastSeq,
			updatedAt: sql`now()`
		})
		.where(eq(conversations.id, c.conversationId));
	await tx.execute(
		sql`select pg_notify(${EVENTS_CHANNEL}, ${`${c.conversationId}|${c.lastSeq}|${c.replicaId}`})`
	);
}

/** One running answer's part of a save. */
export interface SaveItem {
	conversationId: string;
	generationId: string;
	lastSeq: number;
	/** Also end the lease: the answer's end is among the rows. */
	release: boolean;
	/** Also write the conversation row (lease, last_seq) and the message text. */
	renew: boolean;
	/** Tell other replicas (`conversation|seq|replica`), or not. */
	notice: string | null;
	rows: log.Row[];
	/** The answer's text since `savedChars`, with its message row's state (written when `renew`). */
	message: {
		id: string;
		savedChars: number;
		text: string;
		status: string;
		errorKind: string | null;
		usage: unknown;
		notice: string | null;
		model: string | null;
	} | null;
}

/**
 * Saves running answers in one statement, fenced like a transaction: only conversations their
 * generation still holds are written (a renewal updates the row; a plain log write locks it FOR
 * SHARE), and the row locks hold off a takeover until it commits. Returns the conversations
 * written; the others lost their lease. Rows already present are skipped and text is written
 * from `savedChars`, so a save retried after a lost reply writes nothing twice.
 */
export async function save(db: Db, items: SaveItem[], leaseSeconds: number): Promise<Set<string>> {
	const claims = items.map((b) => ({
		id: b.conversationId,
		generation_id: b.generationId,
		last_seq: b.lastSeq,
		release: b.release,
		renew: b.renew,
		notice: b.notice
	}));
	const events = items.flatMap((b) =>
		b.rows.map((r) => ({
			conversation_id: r.conversationId,
			seq: r.seq,
			first_seq: r.firstSeq,
			type: r.type,
			data: r.data
		}))
	);
	const texts = items.flatMap((b) =>
		b.renew && b.message
			? [
					{
						conversation_id: b.conversationId,
						id: b.message.id,
						saved_chars: b.message.savedChars,
						text: b.message.text,
						status: b.message.status,
						error_kind: b.message.errorKind,
						usage: b.message.usage,
						notice: b.message.notice,
						model: b.message.model
					}
				]
			: []
	);
	const lease = leaseSeconds;
	const result = await db.execute(sql`
		with v as (
			select * from jsonb_to_recordset(${JSON.stringify(claims)}::jsonb)
				as v(id uuid, generation_id uuid, last_seq int, release boolean, renew boolean, notice text)
		),
		renewed as (
			update conversations c set
				last_seq = greatest(c.last_seq, v.last_seq),
				generation_id = case when v.release then null else c.generation_id end,
				lease_owner = case when v.release then null else c.lease_owner end,
				lease_expires_at = case when v.release then null else now() + make_interval(secs => ${lease}) end,
				updated_at = now()
			from v where v.renew and c.id = v.id and c.generation_id = v.generation_id
			returning c.id
		),
		held as (
			select c.id from conversations c
			join v on c.id = v.id and c.generation_id = v.generation_id and not v.renew
			for share of c
		),
		-- A release retried after its reply was lost: it is already saved.
		released as (
			select c.id from conversations c
			join v on c.id = v.id and v.release and c.generation_id is null and c.last_seq = v.last_seq
		),
		ok as (select id from renewed union all select id from held union all select id from released),
		ev as (
			insert into conversation_events (conversation_id, seq, first_seq, type, data)
			select e.conversation_id, e.seq, e.first_seq, e.type, e.data
			from jsonb_to_recordset(${JSON.stringify(events)}::jsonb)
				as e(conversation_id uuid, seq int, first_seq int, type text, data jsonb)
			where e.conversation_id in (select id from ok)
			on conflict (conversation_id, seq) do nothing
		),
		mu as (
			update messages m set
				content = left(m.content, x.saved_chars) || x.text,
				status = x.status,
				error_kind = x.error_kind,
				usage = coalesce(x.usage, m.usage),
				notice = coalesce(x.notice, m.notice),
				model = coalesce(x.model, m.model),
				updated_at = now()
			from jsonb_to_recordset(${JSON.stringify(texts)}::jsonb)
				as x(conversation_id uuid, id uuid, saved_chars int, text text, status text, error_kind text, usage jsonb, notice text, model text)
			where m.id = x.id and x.conversation_id in (select id from ok)
		),
		notices as (
			select string_agg(n.notice, ';') as payload from (
				select v.notice, (row_number() over (order by v.id) - 1) / ${sql.raw(String(NOTICES_PER_PAYLOAD))} as chunk
				from ok join v on v.id = ok.id where v.notice is not null
			) n group by n.chunk
		)
		select ok.id, (select count(pg_notify(${EVENTS_CHANNEL}, payload)) from notices) as notified
		from ok`);
	return new Set(rowsOf<{ id: string }>(result).map((r) => r.id));
}

/**
 * Closes answers whose owner stopped renewing its lease (it crashed or lost the database): the
 * partial answer is kept, marked interrupted, numbered past anything the owner could have shown.
 */
export async function recoverExpired(db: Db) {
	return db.transaction(async (tx) => {
		// The answer's text was saved up to the conversation's last_seq; the log holds the rest.
		const result = await tx.execute(sql`
			with expired as (
				select id, last_seq as saved_seq from conversations
				where generation_id is not null and lease_expires_at < now()
				for update skip locked
			)
			update conversations c set
				generation_id = null, lease_owner = null, lease_expires_at = null,
				last_seq = greatest(
					c.last_seq,
					coalesce((select max(e.seq) from conversation_events e where e.conversation_id = c.id), 0)
				) + ${RECOVERY_GAP},
				updated_at = now()
			from expired where c.id = expired.id
			returning c.id, c.last_seq, expired.saved_seq`);
		const rows = rowsOf<{ id: string; last_seq: number; saved_seq: number }>(result);
		for (const row of rows) {
			const streaming = rowsOf<{ id: string }>(
				await tx.execute(sql`
					update messages m set
						status = 'interrupted',
						updated_at = now(),
						content = m.content || coalesce((
							select string_agg(x.part, '' order by e.first_seq, x.n)
							from conversation_events e
							cross join lateral jsonb_array_elements_text(e.data->'parts') with ordinality as x(part, n)
							where e.conversation_id = m.conversation_id and e.type = 'delta'
								and e.data->>'messageId' = m.id::text
								and e.first_seq + x.n - 1 > ${row.saved_seq}
						), '')
					where m.conversation_id = ${row.id} and m.status = 'streaming'
					returning m.id`)
			);
			const events: LogEvent[] = streaming.map((m, i) => ({
				seq: Number(row.last_seq) - (streaming.length - 1 - i),
				type: 'interrupted',
				messageId: m.id
			}));
			await log.append(tx, row.id, events);
			await tx.execute(
				sql`select pg_notify(${EVENTS_CHANNEL}, ${`${row.id}|${row.last_seq}|recovery`})`
			);
		}
		return rows;
	});
}

/** Asks whichever replica runs the generation to stop it. */
export async function requestStop(db: Db, generationId: string) {
	await db.execute(
		sql`select pg_notify(${CONTROL_CHANNEL}, ${JSON.stringify({ action: 'stop', generationId })})`
	);
}
