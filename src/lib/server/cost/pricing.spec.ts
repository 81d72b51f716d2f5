import { describe, expect, it } from 'vitest';
import { costOf, FALLBACK_PRICE, priceTable, uncachedCostOf } from './pricing.ts';
import { chooseModel, isSimpleQuestion } from './routing.ts';
import { hasOwnWork, isCacheable, normalizeQuestion } from './cache.ts';

describe('price table', () => {
	const table = priceTable([]);

	it('matches dated and suffixed model ids to their family, longest entry first', () => {
		expect(table.find('claude-sonnet-4-5-20250929', 'anthropic').inputPerMTok).toBe(3);
		expect(table.find('claude-haiku-4-5', 'anthropic').outputPerMTok).toBe(5);
		expect(table.find('claude-opus-4-5', 'anthropic').inputPerMTok).toBe(5);
		expect(table.find('claude-opus-4-1', 'anthropic').inputPerMTok).toBe(15);
		expect(table.find('gpt-4.1-mini-2025-04-14', 'openai').inputPerMTok).toBe(0.4);
		expect(table.find('gpt-4.1', 'openai').inputPerMTok).toBe(2);
	});

	it('prices local and offline models at zero and unknown paid ones like a mid-range model', () => {
		expect(table.find('llama3.1', 'openai-compatible').inputPerMTok).toBe(0);
		expect(table.find('course-search', 'offline').outputPerMTok).toBe(0);
		expect(table.find('some-new-model', 'openai')).toEqual(FALLBACK_PRICE);
	});

	it('lets an admin override or add a price', () => {
		const custom = priceTable([
			{
				model: 'gpt-4.1',
				inputPerMTok: 1,
				outputPerMTok: 2,
				cachedInputPerMTok: 0.5,
				cacheWritePerMTok: 1,
				custom: true
			}
		]);
		expect(custom.find('gpt-4.1', 'openai').outputPerMTok).toBe(2);
		expect(custom.rows.find((r) => r.model === 'gpt-4.1')?.custom).toBe(true);
		expect(custom.rows.find((r) => r.model === 'gpt-4.1-mini')?.custom).toBe(false);
	});

	it('bills cached and cache-write input at their own rates', () => {
		const sonnet = table.find('claude-sonnet-4-5');
		const usage = {
			inputTokens: 10_000,
			cachedInputTokens: 6_000,
			cacheWriteTokens: 2_000,
			outputTokens: 500
		};
		expect(costOf(sonnet, usage)).toBeCloseTo(
			(2_000 * 3 + 6_000 * 0.3 + 2_000 * 3.75 + 500 * 15) / 1e6,
			12
		);
		expect(uncachedCostOf(sonnet, usage)).toBeCloseTo((10_000 * 3 + 500 * 15) / 1e6, 12);
	});
});

describe('routing rule', () => {
	const settings = { routingEnabled: true, cheapModel: 'small' };
	const route = (question: string, ownWork = false, fresh = true) =>
		chooseModel({ question, ownWork, settings, mainModel: 'big', fresh }).model;

	it('sends short conceptual questions to the cheaper model', () => {
		expect(route('What is a list?')).toBe('small');
		expect(route('How are tuples different from lists?')).toBe('small');
	});

	it('keeps debugging, code, long questions, own work, continue and regenerate on the main model', () => {
		expect(route('Why does my loop give an error?')).toBe('big');
		expect(route('My function is broken')).toBe('big');
		expect(route('Is `print(x)` right?')).toBe('big');
		expect(route('x = 1\n  y = 2')).toBe('big');
		expect(route('What is a list? '.repeat(20))).toBe('big');
		expect(route('What is a list?', true)).toBe('big');
		expect(route('What is a list?', false, false)).toBe('big');
		expect(
			chooseModel({
				question: 'What is a list?',
				ownWork: false,
				settings: { ...settings, routingEnabled: false },
				mainModel: 'big',
				fresh: true
			}).model
		).toBe('big');
		expect(isSimpleQuestion('', false)).toBe(false);
	});
});

describe('response cache eligibility', () => {
	it('normalizes case, spacing, quotes and closing punctuation', () => {
		expect(normalizeQuestion('  What’s   a LIST?? ')).toBe("what's a list");
	});

	it('admits questions early in a conversation without personal work', () => {
		expect(isCacheable({ historyLength: 0, context: null })).toBe(true);
		expect(isCacheable({ historyLength: 2, context: null })).toBe(true);
		expect(isCacheable({ historyLength: 8, context: null })).toBe(false);
		expect(isCacheable({ historyLength: 0, context: { lastError: 'NameError' } })).toBe(false);
		expect(isCacheable({ historyLength: 0, context: { code: 'x = 1' } })).toBe(false);
		// Untouched starter code says nothing about the student.
		expect(
			isCacheable({
				historyLength: 0,
				context: { code: 'def f():\n  pass' },
				starterCode: 'def f():\n    pass\n'
			})
		).toBe(true);
		expect(hasOwnWork({ code: 'def f():\n  return 1' }, 'def f():\n    pass')).toBe(true);
		const practice = {
			question: 'Q',
			options: ['int', 'float'],
			expected: 'float',
			wasRight: false,
			explanation: 'E'
		};
		expect(
			isCacheable({ historyLength: 0, context: { practice: { ...practice, given: 'int' } } })
		).toBe(true);
		expect(
			isCacheable({
				historyLength: 0,
				context: { practice: { ...practice, given: 'my own words' } }
			})
		).toBe(false);
	});
});
