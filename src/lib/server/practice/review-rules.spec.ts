/**
 * The pure rules behind practice that counts right: which responses are blank, what each review
 * rating would schedule, and what a write-code question's feedback shows after an attempt.
 */
import { describe, expect, it } from 'vitest';
import type { Question } from '#lib/server/db/schema.ts';
import { cardAfter, nextCard, previewDue } from './fsrs.ts';
import { isBlank } from './grade.ts';
import { feedbackView } from './view.ts';

const now = new Date('2026-06-01T12:00:00Z');

describe('isBlank', () => {
	it('calls a response blank when it says nothing for its kind', () => {
		expect(isBlank({ kind: 'single' }, null)).toBe(true);
		expect(isBlank({ kind: 'single' }, {})).toBe(true);
		expect(isBlank({ kind: 'single' }, { choice: 0 })).toBe(false);
		expect(isBlank({ kind: 'multiple' }, { choices: [] })).toBe(true);
		expect(isBlank({ kind: 'multiple' }, { choices: [1] })).toBe(false);
		expect(isBlank({ kind: 'short' }, { text: '  ' })).toBe(true);
		expect(isBlank({ kind: 'output' }, { text: '0' })).toBe(false);
		expect(isBlank({ kind: 'code' }, { code: 'x = 1' })).toBe(true);
		expect(isBlank({ kind: 'code' }, { code: 'x = 1', passed: false })).toBe(false);
	});
});

describe('review ratings', () => {
	it('previews later dates for better ratings, and a rating lands where its preview said', () => {
		const seen = nextCard(
			null,
			{ correct: true, timeMs: 30_000 },
			new Date(now.getTime() - 86_400_000)
		);
		const shown = previewDue(seen, now);
		const order = [shown.again, shown.hard, shown.good, shown.easy].map((d) => d.getTime());
		expect(order).toEqual([...order].sort((a, b) => a - b));
		expect(shown.again.getTime()).toBeLessThan(shown.easy.getTime());
		for (const name of ['again', 'hard', 'good', 'easy'] as const)
			expect(cardAfter(seen, name, now).due).toEqual(shown[name]);
	});
});

describe('write-code feedback', () => {
	const q = {
		id: 'q',
		kind: 'code',
		options: [],
		answer: null,
		explanation: 'Use a loop.',
		solutionCode: 'for i in range(3):\n    print(i)\n'
	} as unknown as Question;
	const base = { answerId: 'a', nextReview: now, dueCount: 0 };

	it('lists the failed checks of a miss and shows the reference after any attempt', () => {
		const missed = feedbackView(q, {
			...base,
			correct: false,
			given: { code: 'pass', passed: false, failed: ['Prints 0, 1 and 2'] }
		});
		expect(missed.failedChecks).toEqual(['Prints 0, 1 and 2']);
		expect(missed.reference).toBe(q.solutionCode);
		const passed = feedbackView(q, { ...base, correct: true, given: { code: 'x', passed: true } });
		expect(passed.failedChecks).toEqual([]);
		expect(passed.reference).toBe(q.solutionCode);
		// Other kinds never carry a reference solution.
		const single = feedbackView(
			{ ...q, kind: 'single', options: ['a', 'b'], answer: { key: 0 } },
			{
				...base,
				correct: false
			}
		);
		expect(single.reference).toBe('');
	});
});
