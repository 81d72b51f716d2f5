import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../ai/types';
import { guardSolution, reproducesSolution, WITHHELD_NOTICE } from './solution-guard';

const SOLUTION = `def count_vowels(text):
    """Counts the vowels in text."""
    total = 0
    for letter in text.lower():
        if letter in "aeiou":
            total += 1
    return total
`;

async function run(chunks: string[], solution = SOLUTION) {
	async function* source(): AsyncIterable<StreamEvent> {
		for (const text of chunks) yield { type: 'text', text };
		yield { type: 'done' };
	}
	let withheld = 0;
	const out: string[] = [];
	for await (const e of guardSolution(source(), solution, () => withheld++))
		if (e.type === 'text') out.push(e.text);
	return { text: out.join(''), pieces: out, withheld };
}

/** Splits text into small chunks, the way a provider streams it. */
function chunked(text: string, size = 3) {
	const parts: string[] = [];
	for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
	return parts;
}

describe('reproducesSolution', () => {
	it('catches the solution itself, reformatted, commented or with renamed variables', () => {
		expect(reproducesSolution(SOLUTION, SOLUTION)).toBe(true);
		expect(
			reproducesSolution(
				`def count_vowels(text):\n  total=0 # start\n  for letter in text.lower():\n    if letter in "aeiou": total += 1\n  return total`,
				SOLUTION
			)
		).toBe(true);
		expect(
			reproducesSolution(
				`def count_vowels(s):\n    n = 0\n    for ch in s.lower():\n        if ch in "aeiou":\n            n += 1\n    return n`,
				SOLUTION
			)
		).toBe(true);
	});

	it('lets unrelated examples and small fragments through', () => {
		expect(reproducesSolution(`for letter in "abc":\n    print(letter)`, SOLUTION)).toBe(false);
		expect(reproducesSolution(`total += 1`, SOLUTION)).toBe(false);
		expect(
			reproducesSolution(`def add(a, b):\n    return a + b`, `def area(w, h):\n    return w * h`)
		).toBe(false);
	});
});

describe('guardSolution', () => {
	it('streams prose and harmless code unchanged, however the chunks fall', async () => {
		const answer =
			'Think about it this way:\n\n```python\nfor letter in "hi":\n    print(letter)\n```\n\nWhat does `in` check?';
		for (const size of [1, 2, 5, 40]) {
			const { text, withheld } = await run(chunked(answer, size));
			expect(text).toBe(answer);
			expect(withheld).toBe(0);
		}
	});

	it('replaces a block that reproduces the solution with the notice', async () => {
		const answer = `Here it is:\n\n\`\`\`python\n${SOLUTION}\`\`\`\n\nDoes that help?`;
		for (const size of [1, 4, 1000]) {
			const { text, withheld } = await run(chunked(answer, size));
			expect(text).not.toContain('total += 1');
			expect(text).toContain(WITHHELD_NOTICE);
			expect(text.startsWith('Here it is:')).toBe(true);
			expect(text.endsWith('Does that help?')).toBe(true);
			expect(withheld).toBe(1);
		}
	});

	it('catches a solution handed over in pieces and an unclosed final block', async () => {
		const pieces = await run([
			'Start with:\n```python\ndef count_vowels(text):\n    total = 0\n```\nthen:\n```python\n',
			'    for letter in text.lower():\n        if letter in "aeiou":\n            total += 1\n    return total\n```\n'
		]);
		expect(pieces.text).toContain('def count_vowels');
		expect(pieces.text).not.toContain('total += 1');
		expect(pieces.withheld).toBe(1);
		const unclosed = await run(['Here:\n```\n', SOLUTION]);
		expect(unclosed.text).not.toContain('return total');
		expect(unclosed.withheld).toBe(1);
	});

	it('holds prose back only while a line could still open a fence', async () => {
		const { pieces } = await run(['Hello ', 'there\n', '`x` is ', 'a name']);
		expect(pieces[0]).toBe('Hello ');
		expect(pieces.join('')).toBe('Hello there\n`x` is a name');
	});
});
