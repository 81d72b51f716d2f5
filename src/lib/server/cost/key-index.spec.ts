import { describe, expect, it } from 'vitest';
import { KeyIndex } from './key-index';

const at = (ms: number) => new Date(Date.now() + ms);

describe('KeyIndex', () => {
	it('may have every key until loaded, then only live ones it was told of', () => {
		const keys = new KeyIndex();
		expect(keys.mayHave('a')).toBe(true);
		keys.load([
			{ key: 'a', expiresAt: at(60_000), createdAt: at(-1000) },
			{ key: 'old', expiresAt: at(-1), createdAt: at(-9000) }
		]);
		expect(keys.mayHave('a')).toBe(true);
		expect(keys.mayHave('old')).toBe(false);
		expect(keys.mayHave('b')).toBe(false);
		keys.add('b', Date.now() + 60_000);
		expect(keys.mayHave('b')).toBe(true);
		keys.forget('a');
		expect(keys.mayHave('a')).toBe(false);
	});

	it('once full, answers "maybe" for every key rather than miss one', () => {
		const keys = new KeyIndex();
		keys.load([]);
		for (let i = 0; i < KeyIndex.MAX_KEYS; i++) keys.add(`k${i}`, Date.now() + 60_000);
		expect(keys.mayHave('never-added')).toBe(false);
		keys.add('one-too-many', Date.now() + 60_000);
		expect(keys.mayHave('never-added')).toBe(true);
	});
});
