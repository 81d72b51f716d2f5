import { describe, expect, it } from 'vitest';
import { EarlyStart, type Known } from './early-start.ts';

const known = (userId = 'u1', history = [{ role: 'user' as const, content: 'hi' }]): Known => ({
	userId,
	history,
	context: { lessonId: 'l1' }
});

function setup(enabled = true) {
	const discarded: string[] = [];
	let reads = 0;
	const early = new EarlyStart<string>({
		enabled,
		readLevel: async () => {
			reads++;
			return 'beginner';
		},
		discard: (started) => discarded.push(started)
	});
	const start = (label: string) => async () => label;
	return { early, discarded, start, reads: () => reads };
}

describe('early start', () => {
	it('starts only on a conversation this replica saw, for the same student, when turned on', () => {
		const { early, start } = setup();
		expect(early.begin('u1', 'c1', start('x'))).toBeNull();
		early.saw('c1', known());
		expect(early.begin('u2', 'c1', start('x'))).toBeNull();
		expect(early.begin('u1', 'c1', start('x'))).not.toBeNull();
		const off = setup(false);
		off.early.saw('c1', known());
		expect(off.early.begin('u1', 'c1', start('x'))).toBeNull();
	});

	it('keeps the start when the send statement read the same history, context and level', async () => {
		const { early, discarded, start } = setup();
		early.saw('c1', known());
		early.levelRead('u1', 'beginner');
		const guess = early.begin('u1', 'c1', start('answer'))!;
		const accepted = {
			level: 'beginner' as const,
			context: { lessonId: 'l1' },
			history: known().history
		};
		expect(await early.confirm(guess, accepted)).toBe('answer');
		expect(guess.controller.signal.aborted).toBe(false);
		expect(discarded).toEqual([]);
	});

	it.each([
		['the history changed elsewhere', { history: [{ role: 'user' as const, content: 'other' }] }],
		['the context changed', { context: { lessonId: 'l2' } }],
		['the level changed', { level: 'advanced' as const }]
	])('cancels and lets go of the start when %s', async (_why, change) => {
		const { early, discarded, start } = setup();
		early.saw('c1', known());
		early.levelRead('u1', 'beginner');
		const guess = early.begin('u1', 'c1', start('answer'))!;
		const accepted = {
			level: 'beginner' as const,
			context: { lessonId: 'l1' },
			history: known().history,
			...change
		};
		expect(await early.confirm(guess, accepted)).toBeNull();
		expect(guess.controller.signal.aborted).toBe(true);
		expect(discarded).toEqual(['answer']);
	});

	it('cancels when the question was refused', async () => {
		const { early, discarded, start } = setup();
		early.saw('c1', known());
		const guess = early.begin('u1', 'c1', start('answer'))!;
		expect(await early.confirm(guess, null)).toBeNull();
		expect(discarded).toEqual(['answer']);
	});

	it('reads the level once ahead of the first question, and not again once known', async () => {
		const { early, start, reads } = setup();
		early.prefetchLevel('u1');
		early.prefetchLevel('u1');
		await new Promise((r) => setImmediate(r));
		expect(reads()).toBe(1);
		early.saw('c1', known());
		const guess = early.begin('u1', 'c1', start('answer'))!;
		expect((await guess.started).level).toBe('beginner');
		expect(reads()).toBe(1);
	});

	it('does not remember a very long history, and forgets on request', () => {
		const { early } = setup();
		early.saw('long', known('u1', [{ role: 'user', content: 'x'.repeat(70_000) }]));
		expect(early.size).toBe(0);
		early.saw('c1', known());
		expect(early.size).toBe(1);
		early.forget('c1');
		expect(early.size).toBe(0);
	});
});
