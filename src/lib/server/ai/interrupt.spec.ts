import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Interrupt } from './interrupt.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('Interrupt', () => {
	it('settles as the awaited promise does while nothing interrupts', async () => {
		const interrupt = new Interrupt();
		await expect(interrupt.wait(Promise.resolve(7))).resolves.toBe(7);
		await expect(interrupt.wait(Promise.reject(new Error('no')))).rejects.toThrow('no');
		expect(interrupt.fired).toBe(false);
	});

	it('ends the wait under way at once, and every later one', async () => {
		const interrupt = new Interrupt();
		const never = new Promise<number>(() => {});
		const waiting = interrupt.wait(never);
		interrupt.fire(new Error('stop'));
		interrupt.fire(new Error('second')); // only the first counts
		await expect(waiting).rejects.toThrow('stop');
		await expect(interrupt.wait(Promise.resolve(1))).rejects.toThrow('stop');
		expect(interrupt.fired).toBe(true);
	});

	it('a wait started after the interrupt leaves no unhandled rejection behind', async () => {
		const unhandled: unknown[] = [];
		const onUnhandled = (reason: unknown) => unhandled.push(reason);
		process.on('unhandledRejection', onUnhandled);
		try {
			const interrupt = new Interrupt();
			interrupt.fire(new Error('stopped'));
			// The awaited promise (the provider's next event) fails later, as a cancelled call does.
			let cancel!: (reason: Error) => void;
			const late = new Promise((_, reject) => (cancel = reject));
			await expect(interrupt.wait(late)).rejects.toThrow('stopped');
			cancel(new Error('cancelled'));
			// Node reports a rejection left unhandled as soon as the microtasks of the turn that
			// rejected it have run, so before any callback of the next turn.
			await new Promise((resolve) => setImmediate(resolve));
			expect(unhandled).toEqual([]);
		} finally {
			process.off('unhandledRejection', onUnhandled);
		}
	});

	it('does not fire into a wait that already settled', async () => {
		const interrupt = new Interrupt();
		await interrupt.wait(Promise.resolve('done'));
		let resolveNext!: (v: string) => void;
		const next = interrupt.wait(new Promise<string>((r) => (resolveNext = r)));
		resolveNext('next');
		await expect(next).resolves.toBe('next');
		interrupt.fire(new Error('late'));
		await expect(interrupt.wait(Promise.resolve('x'))).rejects.toThrow('late');
	});

	it('keeps nothing of a settled wait alive (Promise.race against a lasting promise does)', async () => {
		const waits = async (wait: (p: Promise<object>) => Promise<object>) => {
			const refs: WeakRef<object>[] = [];
			for (let i = 0; i < 50; i++) {
				const value = { i };
				refs.push(new WeakRef(value));
				await wait(Promise.resolve(value));
			}
			for (let round = 0; round < 2; round++) {
				await new Promise((r) => setTimeout(r, 0));
				gc();
			}
			return refs.filter((r) => r.deref() !== undefined).length;
		};
		const interrupt = new Interrupt();
		// A plain `await` keeps the last value it received (the async function's frame holds it).
		const plain = await waits((p) => p);
		expect(plain).toBeLessThanOrEqual(1);
		expect(await waits((p) => interrupt.wait(p))).toBe(plain);
		// The pattern this replaces, for contrast: every race leaves a reaction on `lasting`, which
		// holds the race's promise and, through it, the value it settled with.
		const lasting = new Promise<never>(() => {});
		expect(await waits((p) => Promise.race([p, lasting]))).toBe(50);
		expect(interrupt.fired).toBe(false); // `interrupt` and `lasting` were alive throughout
		void lasting;
	});
});
