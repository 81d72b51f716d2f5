import { describe, expect, it } from 'vitest';
import { slugify } from './slug.ts';

describe('slugify', () => {
	it('makes a slug the content forms accept from any title', () => {
		expect(slugify('Lists & Tuples: a first look')).toBe('lists-tuples-a-first-look');
		expect(slugify('  Café déjà vu  ')).toBe('cafe-deja-vu');
		expect(slugify('Python 3.12 — what’s new?')).toBe('python-3-12-what-s-new');
		expect(slugify('!!!')).toBe('');
		const long = slugify('word '.repeat(40));
		expect(long.length).toBeLessThanOrEqual(80);
		expect(long.endsWith('-')).toBe(false);
		expect(long).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
	});
});
