import { describe, expect, it } from 'vitest';
import { Answer, IllegalTransition, outcomeOf, type StateName } from './answer.ts';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000) {
	let now = start;
	return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** An answer driven into `state` by legal transitions. */
function answerIn(state: StateName, clock = fakeClock()) {
	const a = new Answer(clock.now);
	if (state === 'streaming') a.firstToken();
	if (state === 'ending' || state === 'saved') a.end('complete');
	if (state === 'saved') a.saved();
	if (state === 'lost') a.lose();
	return a;
}

describe('an answer’s life', () => {
	it('streams, ends and is saved, timing each step on the clock it was given', () => {
		const clock = fakeClock();
		const a = new Answer(clock.now);
		expect(a.state).toBe('starting');
		expect(a.messageStatus).toBe('streaming');
		clock.advance(120);
		a.firstToken();
		clock.advance(5);
		a.firstToken(); // more text: same state, first-token time kept
		expect(a).toMatchObject({ state: 'streaming', startedAt: 1_000, firstTokenAt: 1_120 });
		clock.advance(400);
		a.end('complete');
		expect(a).toMatchObject({ state: 'ending', releasing: true, endedAt: 1_525 });
		expect(a.messageStatus).toBe('complete');
		a.saved();
		expect(a).toMatchObject({ state: 'saved', releasing: false, finished: true });
	});

	it('can end before any text (a provider error), keeping the error kind only for errors', () => {
		const failed = new Answer(fakeClock().now);
		failed.end('error', 'rate_limited');
		expect(failed).toMatchObject({
			outcome: 'error',
			errorKind: 'rate_limited',
			firstTokenAt: null
		});
		const stopped = answerIn('streaming');
		stopped.end('stopped', 'ignored');
		expect(stopped).toMatchObject({ outcome: 'stopped', errorKind: null });
	});

	it('is lost from any unfinished state, and then writes nothing more', () => {
		for (const state of ['starting', 'streaming', 'ending'] as const) {
			const a = answerIn(state);
			a.lose();
			expect(a).toMatchObject({ state: 'lost', finished: true, releasing: false });
		}
	});

	const illegal: [StateName, (a: Answer) => void, string][] = [
		['starting', (a) => a.saved(), 'be saved'],
		['streaming', (a) => a.saved(), 'be saved'],
		['ending', (a) => a.firstToken(), 'stream'],
		['ending', (a) => a.end('complete'), 'end'],
		['saved', (a) => a.firstToken(), 'stream'],
		['saved', (a) => a.end('stopped'), 'end'],
		['saved', (a) => a.saved(), 'be saved'],
		['saved', (a) => a.lose(), 'be lost'],
		['lost', (a) => a.firstToken(), 'stream'],
		['lost', (a) => a.end('interrupted'), 'end'],
		['lost', (a) => a.saved(), 'be saved'],
		['lost', (a) => a.lose(), 'be lost']
	];
	it.each(illegal)('refuses, when %s, to %s', (state, step, event) => {
		const a = answerIn(state);
		expect(() => step(a)).toThrow(new IllegalTransition(state, event));
		expect(a.state).toBe(state);
	});

	it('maps each abort reason to an outcome', () => {
		expect(outcomeOf('stop')).toBe('stopped');
		expect(outcomeOf('shutdown')).toBe('interrupted');
		expect(outcomeOf('storage')).toBe('interrupted');
		expect(outcomeOf('lost-lease')).toBe('lost');
	});
});
