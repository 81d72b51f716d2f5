/**
 * Delivers a conversation's events to every socket watching it, in order, each event once.
 *
 * Each subscription remembers the last sequence number it delivered. Live events from a local
 * generation go straight out when they are the next number; anything else (a notification from
 * another replica, a gap, a socket that fell behind) makes the subscription pull from the source,
 * which reads the persisted log plus the local generation's events held in memory. A socket whose
 * send buffer is full is skipped (the generation never waits for it) and catches up by pulling
 * once it has drained.
 *
 * @example
 * const sub = fanout.add(conversationId, socket, since);
 * fanout.publish(conversationId, event); // from the generation
 * fanout.remove(sub);
 */
import type { LogEvent, ServerMessage } from '#lib/ws/protocol.ts';
import { logger } from '#lib/server/log.ts';

export interface Socket {
	send(message: ServerMessage): void;
	/** Bytes queued but not yet written to the network. */
	bufferedAmount(): number;
}

export interface Source {
	/** Every event after `since`, in order. */
	read(conversationId: string, since: number): Promise<LogEvent[]>;
}

export interface Subscription {
	readonly conversationId: string;
	readonly socket: Socket;
	lastSeq: number;
	pulling: boolean;
	again: boolean;
	lagging: boolean;
	closed: boolean;
}

export const HIGH_WATER_BYTES = 1 << 20;
const LOW_WATER_BYTES = 64 << 10;
const DRAIN_POLL_MS = 50;

export class Fanout {
	readonly #source: Source;
	readonly #byConversation = new Map<string, Set<Subscription>>();
	#drainTimer: ReturnType<typeof setInterval> | undefined;
	readonly #lagging = new Set<Subscription>();

	constructor(source: Source) {
		this.#source = source;
	}

	/** Registers a subscription that has already been given everything up to `lastSeq`. */
	add(conversationId: string, socket: Socket, lastSeq: number): Subscription {
		const sub: Subscription = {
			conversationId,
			socket,
			lastSeq,
			pulling: false,
			again: false,
			lagging: false,
			closed: false
		};
		let set = this.#byConversation.get(conversationId);
		if (!set) this.#byConversation.set(conversationId, (set = new Set()));
		set.add(sub);
		return sub;
	}

	remove(sub: Subscription) {
		sub.closed = true;
		this.#lagging.delete(sub);
		const set = this.#byConversation.get(sub.conversationId);
		set?.delete(sub);
		if (set?.size === 0) this.#byConversation.delete(sub.conversationId);
	}

	has(conversationId: string) {
		return this.#byConversation.has(conversationId);
	}

	get size() {
		let n = 0;
		for (const set of this.#byConversation.values()) n += set.size;
		return n;
	}

	/** A message outside the log (a new title) for every watcher of the conversation here. */
	broadcast(conversationId: string, message: ServerMessage) {
		for (const sub of this.#byConversation.get(conversationId) ?? []) sub.socket.send(message);
	}

	/** A live event from a generation running in this process. */
	publish(conversationId: string, event: LogEvent) {
		const set = this.#byConversation.get(conversationId);
		if (!set) return;
		for (const sub of set) {
			if (sub.pulling) sub.again = true;
			else if (sub.lagging) continue;
			else if (event.seq === sub.lastSeq + 1) this.#deliver(sub, event);
			else if (event.seq > sub.lastSeq) void this.pull(sub);
		}
	}

	/** Something new was persisted for this conversation (by any replica). */
	notify(conversationId: string, seq: number) {
		const set = this.#byConversation.get(conversationId);
		if (!set) return;
		for (const sub of set) if (sub.lastSeq < seq && !sub.lagging) void this.pull(sub);
	}

	/** Reads what the subscription has not had yet and sends it; one pull at a time per subscription. */
	async pull(sub: Subscription): Promise<void> {
		if (sub.pulling) {
			sub.again = true;
			return;
		}
		sub.pulling = true;
		try {
			do {
				sub.again = false;
				const events = await this.#source.read(sub.conversationId, sub.lastSeq);
				for (const event of events) {
					if (sub.closed || sub.lagging) break;
					this.#deliver(sub, event);
				}
			} while (sub.again && !sub.closed && !sub.lagging);
		} catch (err) {
			logger().warn({ err, conversationId: sub.conversationId }, 'catch-up read failed');
			// Try again shortly: the log is the truth and will still be there.
			setTimeout(() => !sub.closed && void this.pull(sub), 500).unref();
		} finally {
			sub.pulling = false;
		}
	}

	#deliver(sub: Subscription, event: LogEvent) {
		if (event.seq <= sub.lastSeq || sub.closed) return;
		if (sub.socket.bufferedAmount() > HIGH_WATER_BYTES) {
			sub.lagging = true;
			this.#lagging.add(sub);
			this.#drainTimer ??= setInterval(() => this.#checkDrained(), DRAIN_POLL_MS);
			return;
		}
		sub.socket.send({ v: 1, type: 'event', conversationId: sub.conversationId, event });
		sub.lastSeq = event.seq;
	}

	#checkDrained() {
		for (const sub of this.#lagging) {
			if (sub.closed || sub.socket.bufferedAmount() < LOW_WATER_BYTES) {
				this.#lagging.delete(sub);
				sub.lagging = false;
				if (!sub.closed) void this.pull(sub);
			}
		}
		if (this.#lagging.size === 0 && this.#drainTimer) {
			clearInterval(this.#drainTimer);
			this.#drainTimer = undefined;
		}
	}

	close() {
		if (this.#drainTimer) clearInterval(this.#drainTimer);
		for (const set of this.#byConversation.values()) for (const sub of set) sub.closed = true;
		this.#byConversation.clear();
		this.#lagging.clear();
	}
}
