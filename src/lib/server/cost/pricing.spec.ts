import { describe, expect, it } from 'vitest';
import { costOf, FALLBACK_PRICE, priceTable, uncachedCostOf } from './pricing.ts';
import { chooseModel, errorKind, isSimpleQuestion } from './routing.ts';
import type { TutorContext } from '#lib/server/tutor/prompt.ts';
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
	const route = (question: string, context: TutorContext | null = null, fresh = true) =>
		chooseModel({ question, context, starterCode: 'x = 1', settings, mainModel: 'big', fresh })
			.model;
	const practice = {
		question: 'What does len([1, 2]) return?',
		options: ['1', '2'],
		given: '1',
		expected: '2',
		wasRight: false,
		explanation: 'Two items.'
	};

	it('sends short conceptual questions to the cheaper model', () => {
		expect(route('What is a list?')).toBe('small');
		expect(route('How are tuples different from lists?')).toBe('small');
		// The untouched starter code is not the student's own work.
		expect(route('What is a list?', { code: 'x = 1\n' })).toBe('small');
	});

	it('keeps debugging, code, long questions, own work, continue and regenerate on the main model', () => {
		expect(route('Why does my loop give an error?')).toBe('big');
		expect(route('My function is broken')).toBe('big');
		expect(route('Is `print(x)` right?')).toBe('big');
		expect(route('x = 1\n  y = 2')).toBe('big');
		expect(route('What is a list? '.repeat(20))).toBe('big');
		expect(route('What is a list?', { code: 'x = 2' })).toBe('big');
		expect(route('What is a list?', null, false)).toBe('big');
		expect(
			chooseModel({
				question: 'What is a list?',
				context: null,
				settings: { ...settings, routingEnabled: false },
				mainModel: 'big',
				fresh: true
			}).model
		).toBe('big');
		expect(isSimpleQuestion('', { context: null })).toBe(false);
	});

	it('sends a self-explaining error in short code to the cheaper model, and other errors to the main one', () => {
		const code = 'total = 0\nfor n in range(3):\n    totl = total + n\n';
		const traceback = (last: string) =>
			`Traceback (most recent call last):\n  File "main.py", line 3, in <module>\n${last}`;
		const ask = (lastError: string, source = code) =>
			route('Why do I get this error?', { code: source, lastError });
		expect(ask("NameError: name 'count' is not defined")).toBe('small');
		expect(ask(traceback("NameError: name 'totl' is not defined"))).toBe('small');
		expect(
			ask('  File "main.py", line 2\n    for n in range(3)\nSyntaxError: expected \':\'')
		).toBe('small');
		expect(ask('IndentationError: expected an indented block')).toBe('small');
		expect(ask(traceback('TypeError: can only concatenate str (not "int") to str'))).toBe('big');
		expect(ask('IndexError: list index out of range')).toBe('big');
		expect(ask("NameError: name 'x' is not defined", 'x = 1\n'.repeat(21))).toBe('big');
		// Own code without an error (wrong output) needs reasoning about the program.
		expect(route('Why is my total wrong?', { code })).toBe('big');
		expect(errorKind('ZeroDivisionError: division by zero')).toBe('ZeroDivisionError');
		expect(errorKind('json.decoder.JSONDecodeError: Expecting value')).toBe('JSONDecodeError');
		expect(errorKind('it just prints nothing')).toBeNull();
	});

	it('treats "why is my answer wrong" on a practice option as an explanation, not debugging', () => {
		expect(route('Why is my answer wrong?', { practice })).toBe('small');
		expect(
			route('Why is my answer wrong?', { practice: { ...practice, given: 'def f(): ...' } })
		).toBe('big');
		expect(route('Why is my answer wrong?')).toBe('big');
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
