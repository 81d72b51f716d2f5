/**
 * The life of one answer on the replica that runs it, as a state machine. No SQL and no I/O: the
 * engine drives it, and asks it what to save and whether the conversation may be released.
 *
 *   starting ──firstToken──> streaming
 *   starting | streaming ──end(outcome)──> ending ──saved──> saved
 *   starting | streaming | ending ──lose──> lost   (its lease was taken over: nothing more is written)
 *
 * `ending` means the end event exists but is not saved yet; `saved` and `lost` are final.
 *
 * @example
 * const answer = new Answer(() => Date.now());
 * answer.firstToken();
 * answer.end('stopped');
 * answer.saved();
 */
export type Outcome = 'complete' | 'stopped' | 'interrupted' | 'error';
export type StateName = 'starting' | 'streaming' | 'ending' | 'saved' | 'lost';

/** Why a running answer was aborted; each reason ends it one way. */
export type StopReason = 'stop' | 'shutdown' | 'storage' | 'lost-lease';

export class IllegalTransition extends Error {
	constructor(from: StateName, event: string) {
		super(`an answer cannot ${event} when ${from}`);
		this.name = 'IllegalTransition';
	}
}

/** The outcome of an answer aborted for `reason`, or `lost` when it must write nothing more. */
export function outcomeOf(reason: StopReason): Outcome | 'lost' {
	if (reason === 'stop') return 'stopped';
	if (reason === 'lost-lease') return 'lost';
	return 'interrupted';
}

export class Answer {
	#state: StateName = 'starting';
	#outcome: Outcome | null = null;
	#errorKind: string | null = null;
	readonly startedAt: number;
	#firstTokenAt: number | null = null;
	#endedAt: number | null = null;

	constructor(private readonly now: () => number) {
		this.startedAt = now();
	}

	get state(): StateName {
		return this.#state;
	}
	get outcome(): Outcome | null {
		return this.#outcome;
	}
	get errorKind(): string | null {
		return this.#errorKind;
	}
	get firstTokenAt(): number | null {
		return this.#firstTokenAt;
	}
	get endedAt(): number | null {
		return this.#endedAt;
	}
	/** The message row's status: `streaming` until the answer has an outcome. */
	get messageStatus(): 'streaming' | Outcome {
		return this.#outcome ?? 'streaming';
	}
	/** The next save also ends the lease (the end event is among what it writes). */
	get releasing(): boolean {
		return this.#state === 'ending';
	}
	get finished(): boolean {
		return this.#state === 'saved' || this.#state === 'lost';
	}

	/** Text arrived; only the first one changes the state. */
	firstToken() {
		if (this.#state === 'streaming') return;
		this.#move(['starting'], 'streaming', 'stream');
		this.#firstTokenAt = this.now();
	}

	end(outcome: Outcome, errorKind: string | null = null) {
		this.#move(['starting', 'streaming'], 'ending', 'end');
		this.#outcome = outcome;
		this.#errorKind = outcome === 'error' ? errorKind : null;
		this.#endedAt = this.now();
	}

	saved() {
		this.#move(['ending'], 'saved', 'be saved');
	}

	lose() {
		this.#move(['starting', 'streaming', 'ending'], 'lost', 'be lost');
		this.#endedAt ??= this.now();
	}

	#move(from: StateName[], to: StateName, event: string) {
		if (!from.includes(this.#state)) throw new IllegalTransition(this.#state, event);
		this.#state = to;
	}
}
