/**
 * The course passages' index in memory ranks as PostgreSQL's `ts_rank_cd` does for the tutor's
 * queries (on both drivers, over the starter curriculum), needs no round trip per question, and
 * sees changes: at once from this process, and from other replicas within its check interval.
 */
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/lib/server/db/index.ts';
import { indexLesson, seedStarterContent } from '../../src/lib/server/learn/content.ts';
import {
	parseTsvector,
	PassageIndex,
	queryLexemes,
	questionWords
} from '../../src/lib/server/tutor/passage-index.ts';
import * as retrieval from '../../src/lib/server/tutor/retrieval.ts';
import { drivers, openTestDatabase, type TestDatabase } from '../helpers/db.ts';

const STARTER = path.resolve(import.meta.dirname, '../../content/starter');

const QUESTIONS = [
	'how does a while loop stop',
	'What is the difference between a list and a tuple?',
	'my for loop prints the last item twice',
	'Why do I get a TypeError when I add a string and a number?',
	'how do dictionaries store keys and values',
	'what does the traceback tell me about the error on line 3',
	'functions with default arguments',
	'recursion base case',
	'my_variable is not defined NameError',
	'sorting a list of numbers in reverse',
	'What is a class and an object in Python?',
	'How do I read a file line by line?',
	'the and of to in', // stop words only
	'zzzz qqqq', // matches nothing
	'loops looping looped loop'
];

describe.each(drivers)('course passage index on %s', (driver) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
		await seedStarterContent(t.database.db, STARTER);
	});
	afterAll(() => t?.drop());

	it('reduces words as to_tsquery(english) does', async () => {
		const words = questionWords(
			'Loops, looping & the LOOPED loop: stopping my_variable early in 2024? dictionaries'
		);
		const rows = await t.database.db.execute<{ q: string }>(
			sql`select to_tsquery('english', ${words.join(' | ')})::text as q`
		);
		const q = (Array.isArray(rows) ? rows : (rows as { rows: { q: string }[] }).rows)[0]!.q;
		const fromPostgres = new Set([...q.matchAll(/'([^']+)'/g)].map((m) => m[1]!));
		expect(queryLexemes(words)).toEqual(fromPostgres);
	});

	it('ranks every question as the database does', async () => {
		const index = new PassageIndex(t.database.db);
		let found = 0;
		for (const question of QUESTIONS) {
			const fromDatabase = await retrieval.search(t.database.db, question, 200);
			const fromIndex = await index.search(question, 200);
			// The same passages with the same ranks (order among equal ranks is arbitrary in both).
			const byId = (list: retrieval.Passage[]) =>
				new Map(list.map((p) => [p.id, Number(p.rank.toPrecision(5))]));
			expect(byId(fromIndex), question).toEqual(byId(fromDatabase));
			expect(fromIndex.map((p) => p.rank)).toEqual(
				[...fromIndex.map((p) => p.rank)].sort((a, b) => b - a)
			);
			const top = fromIndex[0];
			if (top) found++;
			if (top)
				expect(top).toEqual(
					expect.objectContaining({ title: expect.any(String), body: expect.any(String) })
				);
		}
		expect(found).toBeGreaterThanOrEqual(QUESTIONS.length - 2);
		expect((await index.search('how does a while loop stop', 3)).length).toBe(3);
	});

	it('parses the text form of a tsvector', () => {
		expect(parseTsvector(`'loop':3A,17B 'python':1 'it''s':4C`)).toEqual(
			new Map([
				['loop', 1.4],
				['python', 0.1],
				["it's", 0.2]
			])
		);
	});

	it('sees a change made here at once, and another replica’s within its check interval', async () => {
		const db = t.database.db;
		const index = new PassageIndex(db, { checkMs: 100 });
		const word = 'quokkasaurus';
		expect(await index.search(word, 3)).toEqual([]);
		// This process rewrites a lesson's passages.
		const [lesson] = await db.select().from(schema.lessons).limit(1);
		await indexLesson(db, { ...lesson!, body: `${lesson!.body}\n\nA ${word} is not a loop.` });
		expect((await index.search(word, 3)).map((p) => p.source)).toEqual([`lesson:${lesson!.id}`]);
		// Another replica (a plain write here, without telling this process) removes them.
		await db
			.delete(schema.coursePassages)
			.where(eq(schema.coursePassages.source, `lesson:${lesson!.id}`));
		await new Promise((r) => setTimeout(r, 150));
		await index.search(word, 3); // starts the check; answers from what it holds
		await expect.poll(() => index.search(word, 3), { timeout: 5000, interval: 50 }).toEqual([]);
		await indexLesson(db, lesson!); // put the lesson's passages back
	});
});
