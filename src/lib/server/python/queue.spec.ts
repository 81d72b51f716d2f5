import { describe, expect, it } from 'vitest';
import { FairQueue } from './queue.ts';

describe('FairQueue', () => {
	it('serves the user served longest ago first, so a newcomer overtakes a long backlog', () => {
		const queue = new FairQueue<string>({ max: 100, perUser: 100 });
		for (let i = 1; i <= 5; i++) queue.push('ann', `ann${i}`);
		expect(queue.shift()?.job).toBe('ann1');
		queue.push('bob', 'bob1');
		queue.push('cat', 'cat1');
		expect([1, 2, 3, 4, 5, 6].map(() => queue.shift()?.job)).toEqual([
			'bob1',
			'cat1',
			'ann2',
			'ann3',
			'ann4',
			'ann5'
		]);
		expect(queue.shift()).toBeUndefined();
		expect(queue.size).toBe(0);
	});

	it('alternates between users with backlogs', () => {
		const queue = new FairQueue<string>({ max: 100, perUser: 100 });
		for (let i = 1; i <= 3; i++) queue.push('ann', `a${i}`);
		for (let i = 1; i <= 3; i++) queue.push('bob', `b${i}`);
		expect(Array.from({ length: 6 }, () => queue.shift()?.job)).toEqual([
			'a1',
			'b1',
			'a2',
			'b2',
			'a3',
			'b3'
		]);
	});

	it('skips users who may not run more now, without losing their turn', () => {
		const queue = new FairQueue<string>({ max: 100, perUser: 100 });
		queue.push('ann', 'a1');
		queue.push('bob', 'b1');
		expect(queue.shift((user) => user !== 'ann')?.job).toBe('b1');
		expect(queue.shift((user) => user !== 'ann')).toBeUndefined();
		expect(queue.shift()?.job).toBe('a1');
	});

	it('refuses past the per-user limit (running jobs count) and past the total', () => {
		const queue = new FairQueue<number>({ max: 3, perUser: 2 });
		expect(queue.push('ann', 1)).toBe('queued');
		expect(queue.push('ann', 2, 1)).toBe('user-full');
		expect(queue.push('ann', 2)).toBe('queued');
		expect(queue.push('ann', 3)).toBe('user-full');
		expect(queue.push('bob', 4)).toBe('queued');
		expect(queue.push('cat', 5)).toBe('full');
		expect(queue.drain()).toEqual([1, 2, 4]);
		expect(queue.size).toBe(0);
	});
});
