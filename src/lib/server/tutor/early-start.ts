/**
 * Early start: the answer to a question starts before the send statement has confirmed it, from
 * what this replica last saw of the conversation (its history, context and the student's level),
 * so the provider's first token and the database work overlap instead of adding up. The start is
 * kept only if the statement accepted the question and read exactly that history, context and
 * level; otherwise it is cancelled and the answer starts as usual. (bench/RESULTS.md: without it,
 * the added time to first token at 500 streams is several times the target.)
 *
 * @example
 * const guess = early.begin(userId, conversationId, (known, level, signal) => startAnswer(...));
 * const started = (guess && (await early.confirm(guess, accepted))) ?? (await startAnswer(...));
 */
import type { ChatMessage } from '#lib/server/ai/types.ts';
import type { SkillLevel } from '#lib/server/db/schema-practice.ts';
import { recordEarlyStart } from '#lib/server/metrics.ts';

/** What this replica last saw of a conversation: enough to build the next question's prompt. */
export interface Known {
	userId: string;
	/** The history the send statement would read: messages with text, not superseded, in order. */
	history: ChatMessage[];
	/** The conversation's stored context (lesson, exercise, code...). */
	context: unknown;
}

/** A start made on a guess, waiting for the send statement to confirm it. */
export interface Guess<S> {
	known: Known;
	controller: AbortController;
	started: Promise<{ level: SkillLevel | null; started: S }>;
}

/** Conversations and students remembered (the oldest are forgotten first). */
const KNOWN_MAX = 5000;
/** A longer history is not remembered (it is read from the database as usual). */
const KNOWN_MAX_CHARS = 64_000;
/** All remembered histories together: about 16 MB of text at most. */
const KNOWN_TOTAL_CHARS = 8_000_000;

function sameHistory(a: ChatMessage[], b: ChatMessage[]) {
	return (
		a.length === b.length && a.every((m, i) => m.role === b[i]!.role && m.content === b[i]!.content)
	);
}

/** Stored contexts compared by value (both come from the same jsonb column). */
function sameJson(a: unknown, b: unknown) {
	return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export class EarlyStart<S> {
	readonly #known = new Map<string, { known: Known; chars: number }>();
	#chars = 0;
	readonly #levels = new Map<string, SkillLevel | null>();
	readonly #reading = new Set<string>();

	constructor(
		private readonly options: {
			enabled: boolean;
			readLevel: (userId: string) => Promise<SkillLevel | null>;
			/** Lets go of a start that was not kept (runs its stream to the end, say). */
			discard: (started: S) => void;
			/** The part of a history the send statement reads (it reads no more than a prompt uses). */
			recent?: (history: ChatMessage[]) => ChatMessage[];
		}
	) {}

	/** Remembers the conversation as this replica saw it (a snapshot, or the end of an answer). */
	saw(conversationId: string, seen: Known) {
		this.forget(conversationId);
		const known = { ...seen, history: this.options.recent?.(seen.history) ?? seen.history };
		const chars = known.history.reduce((n, m) => n + m.content.length, 0);
		if (!this.options.enabled || chars > KNOWN_MAX_CHARS) return;
		this.#known.set(conversationId, { known, chars });
		this.#chars += chars;
		while (this.#known.size > KNOWN_MAX || this.#chars > KNOWN_TOTAL_CHARS)
			this.forget(this.#known.keys().next().value!);
	}

	/** The conversation is about to change in a way this replica cannot follow. */
	forget(conversationId: string) {
		const entry = this.#known.get(conversationId);
		if (!entry) return;
		this.#chars -= entry.chars;
		this.#known.delete(conversationId);
	}

	get size() {
		return this.#known.size;
	}

	/** The student's level as the send statement last read it. */
	levelRead(userId: string, level: SkillLevel | null) {
		this.#levels.delete(userId);
		this.#levels.set(userId, level);
		if (this.#levels.size > KNOWN_MAX) this.#levels.delete(this.#levels.keys().next().value!);
	}

	/** Reads the level ahead of the student's first question here (a stale one only cancels a start). */
	prefetchLevel(userId: string) {
		if (!this.options.enabled || this.#levels.has(userId) || this.#reading.has(userId)) return;
		this.#reading.add(userId);
		this.options
			.readLevel(userId)
			.then(
				(level) => {
					if (!this.#levels.has(userId)) this.levelRead(userId, level);
				},
				() => {} // read again when the question comes
			)
			.finally(() => this.#reading.delete(userId));
	}

	/** Starts the answer on what this replica knows, or returns null when it knows nothing. */
	begin(
		userId: string,
		conversationId: string,
		start: (known: Known, level: SkillLevel | null, controller: AbortController) => Promise<S>
	): Guess<S> | null {
		const known = this.#known.get(conversationId)?.known;
		if (!this.options.enabled || !known || known.userId !== userId) return null;
		const controller = new AbortController();
		const cached = this.#levels.get(userId);
		const started = (async () => {
			const level = cached !== undefined ? cached : await this.options.readLevel(userId);
			return { level, started: await start(known, level, controller) };
		})();
		started.catch(() => {}); // handled by confirm
		return { known, controller, started };
	}

	/**
	 * The started answer if the send statement confirmed the guess (`accepted`: what it read, its
	 * history without empty messages; null when it refused the question), else null.
	 */
	async confirm(
		guess: Guess<S>,
		accepted: { level: SkillLevel | null; context: unknown; history: ChatMessage[] } | null
	): Promise<S | null> {
		const result = await guess.started.catch(() => null);
		const keep =
			result !== null &&
			accepted !== null &&
			result.level === accepted.level &&
			sameJson(accepted.context, guess.known.context) &&
			sameHistory(accepted.history, guess.known.history);
		recordEarlyStart(keep);
		if (keep) return result.started;
		guess.controller.abort('discarded');
		if (result) this.options.discard(result.started);
		return null;
	}
}
