/**
 * Course search ranks the starter curriculum's passages for a question with PostgreSQL's
 * full-text search (on both drivers): any shared word counts, stop words do not, and a changed
 * lesson is found at once.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/lib/server/db/index.ts';
import { indexLesson, seedStarterContent } from '../../src/lib/server/learn/content.ts';
import * as retrieval from '../../src/lib/server/tutor/retrieval.ts';
import { drivers, openTestDatabase, type TestDatabase } from '../helpers/db.ts';

const STARTER = path.resolve(import.meta.dirname, '../../content/starter');

describe.each(drivers)('course search on %s', (driver) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
		await seedStarterContent(t.database.db, STARTER);
	});
	afterAll(() => t?.drop());

	it('finds passages sharing any stemmed word, best first', async () => {
		const found = await retrieval.search(t.database.db, 'How does a while loop STOP looping?', 5);
		expect(found.length).toBe(5);
		expect(found.map((p) => p.rank)).toEqual([...found.map((p) => p.rank)].sort((a, b) => b - a));
		expect(`${found[0]!.title} ${found[0]!.body}`.toLowerCase()).toMatch(/loop/);
		// One word of the question is enough to match.
		expect((await retrieval.search(t.database.db, 'zzzz dictionaries qqqq', 3)).length).toBe(3);
	});

	it('finds nothing for stop words alone, nonsense, or quotes and operators', async () => {
		for (const q of ['the and of to in', 'zzzz qqqq', "it's | & ! ( ) ' :*", ''])
			expect(await retrieval.search(t.database.db, q, 3), q).toEqual([]);
	});

	it('sees a changed lesson at once', async () => {
		const db = t.database.db;
		const word = 'quokkasaurus';
		expect(await retrieval.search(db, word, 3)).toEqual([]);
		const [lesson] = await db.select().from(schema.lessons).limit(1);
		await indexLesson(db, { ...lesson!, body: `${lesson!.body}\n\nA ${word} is not a loop.` });
		expect((await retrieval.search(db, word, 3)).map((p) => p.source)).toEqual([
			`lesson:${lesson!.id}`
		]);
		await indexLesson(db, lesson!);
	});
});
