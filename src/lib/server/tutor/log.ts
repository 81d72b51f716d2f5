/**
 * The persisted event log of a conversation: reading it back from a sequence number, and writing
 * batches of events. Consecutive deltas of one message are stored as one row (see schema).
 *
 * @example
 * const events = await log.replay(db, conversationId, since);
 */
import { and, asc, eq, gt, gte, lte } from 'drizzle-orm';
import type { LogEvent } from '#lib/ws/protocol.ts';
import type { Db } from '#lib/server/db/index.ts';
import { conversationEvents } from '#lib/server/db/schema.ts';

export type Row = typeof conversationEvents.$inferInsert;

/** Turns events into rows, merging runs of consecutive deltas for the same message. */
export function toRows(conversationId: string, events: LogEvent[]): Row[] {
	const rows: Row[] = [];
	for (const event of events) {
		const last = rows.at(-1);
		if (
			event.type === 'delta' &&
			last?.type === 'delta' &&
			last.seq === event.seq - 1 &&
			(last.data as { messageId: string }).messageId === event.messageId
		) {
			(last.data as { parts: string[] }).parts.push(event.text);
			last.seq = event.seq;
			continue;
		}
		if (event.type === 'delta') {
			rows.push({
				conversationId,
				seq: event.seq,
				firstSeq: event.seq,
				type: 'delta',
				data: { messageId: event.messageId, parts: [event.text] }
			});
		} else {
			const { seq, type, ...data } = event;
			rows.push({ conversationId, seq, firstSeq: seq, type, data });
		}
	}
	return rows;
}

/** Expands stored rows back into events, keeping only those after `since`. */
export function fromRows(
	rows: Pick<Row, 'seq' | 'firstSeq' | 'type' | 'data'>[],
	since: number
): LogEvent[] {
	const events: LogEvent[] = [];
	for (const row of rows) {
		if (row.type === 'delta') {
			const { messageId, parts } = row.data as { messageId: string; parts: string[] };
			parts.forEach((text, i) => {
				const seq = row.firstSeq + i;
				if (seq > since) events.push({ seq, type: 'delta', messageId, text });
			});
		} else if (row.seq > since) {
			events.push({ seq: row.seq, type: row.type, ...row.data } as LogEvent);
		}
	}
	return events;
}

export async function append(db: Db, conversationId: string, events: LogEvent[]) {
	if (events.length) await db.insert(conversationEvents).values(toRows(conversationId, events));
}

/** Every event after `since`, in order (at most `limit` rows). */
export async function replay(db: Db, conversationId: string, since: number, limit = 10_000) {
	const rows = await db
		.select({
			seq: conversationEvents.seq,
			firstSeq: conversationEvents.firstSeq,
			type: conversationEvents.type,
			data: conversationEvents.data
		})
		.from(conversationEvents)
		.where(
			and(eq(conversationEvents.conversationId, conversationId), gt(conversationEvents.seq, since))
		)
		.orderBy(asc(conversationEvents.seq))
		.limit(limit);
	return fromRows(rows, since);
}

/** Whether event `seq` was persisted (a client that saw an unpersisted event must resync). */
export async function has(db: Db, conversationId: string, seq: number): Promise<boolean> {
	const [row] = await db
		.select({ seq: conversationEvents.seq })
		.from(conversationEvents)
		.where(
			and(
				eq(conversationEvents.conversationId, conversationId),
				gte(conversationEvents.seq, seq),
				lte(conversationEvents.firstSeq, seq)
			)
		)
		.limit(1);
	return Boolean(row);
}
