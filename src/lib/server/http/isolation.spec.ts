import { describe, expect, it } from 'vitest';
import { ISOLATION_HEADERS, needsIsolation } from './isolation';

describe('cross-origin isolation for the Python lab', () => {
	it('covers /jupyterlite and everything below it, with or without a query', () => {
		for (const url of [
			'/jupyterlite',
			'/jupyterlite/',
			'/jupyterlite/lab/index.html',
			'/jupyterlite?x=1'
		])
			expect(needsIsolation(url), url).toBe(true);
	});

	it('leaves every other page alone, including look-alike paths', () => {
		for (const url of ['/', '/tutor', '/jupyterlite-notes', '/api/jupyterlite/', undefined])
			expect(needsIsolation(url), String(url)).toBe(false);
	});

	it('asks for the pair that enables SharedArrayBuffer', () => {
		expect(Object.fromEntries(ISOLATION_HEADERS)).toEqual({
			'cross-origin-opener-policy': 'same-origin',
			'cross-origin-embedder-policy': 'require-corp'
		});
	});
});
