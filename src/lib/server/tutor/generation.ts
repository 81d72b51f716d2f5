/**
 * One answer running on this replica: its numbered events, what of them is saved, and the save
 * item the next flush writes for it (see store.save). No SQL and no timers.
 *
 * @example
 * const g = new Generation({ id, conversationId, messageId, seq, events, savedChars: 0, announce: true });
 * g.emit({ type: 'delta', messageId, text: 'Hi' });
 * const item = g.take(Date.now(), renewEveryMs, replicaId); // ... store.save([item.save]) ...
 * g.saved(item, Date.now());
 */
import type { LogEvent, NewLogEvent } from '#lib/ws/protocol.ts';
import type { Usage } from '#lib/server/ai/types.ts';
import type { TurnPlan } from '#lib/server/cost/control.ts';
import { Answer, type Outcome } from './answer';
import type { Known } from './early-start';
import * as log from './log';
import type { SaveItem } from './store';

/** A generation's part of one flush, to be confirmed with `saved` or given back with `unsaved`. */
export interface Taken {
	save: SaveItem;
	/** The answer text in this save. */
	text: string;
	announce: boolean;
	at: number;
}

export class Generation {
	readonly id: string;
	readonly conversationId: string;
	readonly messageId: string;
	readonly controller: AbortController;
	readonly answer = new Answer(Date.now);
	/** Last sequence number handed out, and the last known to be in the database. */
	seq: number;
	savedSeq: number;
	/** This generation's events, for watchers that join mid-answer on this replica. */
	readonly events: LogEvent[];
	#pending: LogEvent[] = [];
	/** Log rows a failed flush may or may not have written: retried exactly as built (idempotent). */
	#unsure: log.Row[] = [];
	/** Text since the last renewing save, and the characters (code points) known to be saved. */
	#unsavedText = '';
	#savedChars: number;
	#lastRenewAt = Date.now();
	/** Other replicas have not been told of this generation yet (the next flush does). */
	#announce: boolean;
	/** Everything streamed (for the usage log and the response cache). */
	text = '';
	usage: Usage | null = null;
	plan: TurnPlan | null = null;
	/** The end event, delivered once saved (a client that saw it finds the conversation free). */
	end: LogEvent | null = null;
	/** The conversation as it will be once this answer is saved, but for the answer. */
	readonly next: Known | null;
	readonly done = Promise.withResolvers<void>();

	constructor(o: {
		id: string;
		conversationId: string;
		messageId: string;
		seq: number;
		events: LogEvent[];
		savedChars: number;
		announce: boolean;
		controller?: AbortController;
		next?: Known | null;
	}) {
		this.id = o.id;
		this.conversationId = o.conversationId;
		this.messageId = o.messageId;
		this.controller = o.controller ?? new AbortController();
		this.seq = this.savedSeq = o.seq;
		this.events = [...o.events];
		this.#savedChars = o.savedChars;
		this.#announce = o.announce;
		this.next = o.next ?? null;
	}

	get pendingEvents() {
		return this.#pending.length;
	}

	/** Numbers an event and queues it for the next save. */
	emit(partial: NewLogEvent): LogEvent {
		const event = { ...partial, seq: ++this.seq } as LogEvent;
		if (event.type === 'delta') {
			this.text += event.text;
			this.#unsavedText += event.text;
		}
		this.events.push(event);
		this.#pending.push(event);
		return event;
	}

	/** Ends the answer: its end event is saved with the next flush and delivered after it. */
	finish(end: NewLogEvent, outcome: Outcome, errorKind: string | null) {
		this.answer.end(outcome, errorKind);
		this.end = { ...end, seq: ++this.seq } as LogEvent;
		this.#pending.push(this.end);
	}

	/**
	 * What the next save writes, or null when nothing is due. Every save logs the new events; a
	 * renewing one (every `renewEveryMs`, and the last) also writes the lease and the message text,
	 * together, so a snapshot's text always matches its last_seq.
	 */
	take(now: number, renewEveryMs: number, replicaId: string): Taken | null {
		const release = this.answer.releasing;
		const renew = release || now - this.#lastRenewAt >= renewEveryMs;
		if (!this.#pending.length && !this.#unsure.length && !this.#announce && !renew) return null;
		const text = renew ? this.#unsavedText : '';
		if (renew) this.#unsavedText = '';
		const rows = [
			...this.#unsure.splice(0),
			...log.toRows(this.conversationId, this.#pending.splice(0))
		];
		const a = this.answer;
		const save: SaveItem = {
			conversationId: this.conversationId,
			generationId: this.id,
			lastSeq: this.seq,
			release,
			renew,
			notice:
				rows.length || release || this.#announce
					? `${this.conversationId}|${this.seq}|${replicaId}`
					: null,
			rows,
			message:
				text || release || this.usage
					? {
							id: this.messageId,
							savedChars: this.#savedChars,
							text,
							status: a.messageStatus,
							errorKind: a.errorKind,
							usage: this.usage,
							notice: this.plan?.notice ?? null,
							model: this.plan?.model ?? null
						}
					: null
		};
		return { save, text, announce: this.#announce, at: now };
	}

	/** The save holding `t` was written. */
	saved(t: Taken) {
		this.savedSeq = t.save.rows.at(-1)?.seq ?? this.savedSeq;
		this.#savedChars += [...t.text].length;
		if (t.save.renew) this.#lastRenewAt = t.at;
		if (t.announce) this.#announce = false;
		if (t.save.release) this.answer.saved();
	}

	/** The save holding `t` failed, written or not: the retry sends the same rows and the text again. */
	unsaved(t: Taken) {
		this.#unsure = t.save.rows;
		this.#unsavedText = t.text + this.#unsavedText;
	}
}
