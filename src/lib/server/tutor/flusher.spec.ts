import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Flusher } from './flusher.ts';

/** A save the test finishes by hand, counting how many started. */
function manualSave() {
	const pending: (() => void)[] = [];
	return {
		started: () => pending.length,
		save: () => new Promise<void>((resolve) => pending.push(resolve)),
		finish: (n: number) => pending[n]!()
	};
}

describe('the flusher', () => {
	beforeEach(() => {
		vi.useFakeTimers();
	});
	afterEach(() => {
		vi.useRealTimers();
	});

	it('saves periodically, start to start', async () => {
		let saves = 0;
		const flusher = new Flusher({ every: () => 100, save: async () => void saves++ });
		flusher.start();
		await vi.advanceTimersByTimeAsync(99);
		expect(saves).toBe(0);
		await vi.advanceTimersByTimeAsync(1);
		expect(saves).toBe(1);
		await vi.advanceTimersByTimeAsync(300);
		expect(saves).toBe(4);
		await flusher.stop();
		expect(saves).toBe(5); // what was left
		await vi.advanceTimersByTimeAsync(1000);
		expect(saves).toBe(5);
	});

	it('never runs two saves at once; a request during a save runs one more right after', async () => {
		const s = manualSave();
		const flusher = new Flusher({ every: () => 1000, save: s.save });
		const first = flusher.flush();
		const second = flusher.flush();
		const third = flusher.flush();
		expect(s.started()).toBe(1);
		s.finish(0);
		await vi.advanceTimersByTimeAsync(0);
		expect(s.started()).toBe(2); // the two requests made during the save: one more save
		s.finish(1);
		await Promise.all([first, second, third]);
		expect(s.started()).toBe(2);
	});

	it('next() waits for a save that starts after it was called', async () => {
		const s = manualSave();
		const flusher = new Flusher({ every: () => 100, save: s.save });
		flusher.start();
		await vi.advanceTimersByTimeAsync(100);
		expect(s.started()).toBe(1);
		let ended = false;
		void flusher.next().then(() => (ended = true));
		s.finish(0); // the save under way when next() was called does not count
		await vi.advanceTimersByTimeAsync(0);
		expect(ended).toBe(false);
		await vi.advanceTimersByTimeAsync(100);
		expect(s.started()).toBe(2);
		s.finish(1);
		await vi.advanceTimersByTimeAsync(0);
		expect(ended).toBe(true);
	});

	it('without the timer, next() saves at once', async () => {
		let saves = 0;
		const flusher = new Flusher({ every: () => 100, save: async () => void saves++ });
		await flusher.next();
		expect(saves).toBe(1);
	});
});
