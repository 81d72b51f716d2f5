/**
 * Retrieval with embeddings: the real HTTP formats of Cohere and Voyage (fake servers), vectors
 * stored as real[] on PostgreSQL and PGlite, and hybrid ranking that finds a passage keyword
 * search misses. A failing embedding service falls back to full-text search.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNull, count } from 'drizzle-orm';
import { schema } from '../../src/lib/server/db/index.ts';
import { createEmbedder, embedMissing } from '../../src/lib/server/learn/embeddings.ts';
import { indexLesson } from '../../src/lib/server/learn/content.ts';
import { createRetriever, search } from '../../src/lib/server/tutor/retrieval.ts';
import { drivers, openTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { testConfig } from '../helpers/config.ts';
import { DIMENSIONS, startFakeEmbeddings } from '../fakes/embeddings.ts';

const LESSONS = [
	{
		id: '00000000-0000-4000-8000-000000000001',
		title: 'Doing things more than once',
		body: '## While statements\n\nA while statement runs its block again and again until its condition is false.'
	},
	{
		id: '00000000-0000-4000-8000-000000000002',
		title: 'Naming your work',
		body: '## Defining\n\nWith def you give a block of code a name so it is reusable.'
	},
	{
		id: '00000000-0000-4000-8000-000000000003',
		title: 'When things go wrong',
		body: '## Reading a traceback\n\nThe last line of a traceback names the exception.'
	}
];

describe('embedding configuration', () => {
	it('picks Cohere, then Voyage, then none, with their default models', () => {
		expect(testConfig({ COHERE_API_KEY: 'c', VOYAGE_API_KEY: 'v' }).embeddings).toMatchObject({
			provider: 'cohere',
			baseUrl: 'https://api.cohere.com',
			model: 'embed-english-v3.0'
		});
		expect(testConfig({ VOYAGE_API_KEY: 'v' }).embeddings).toMatchObject({
			provider: 'voyage',
			model: 'voyage-3.5'
		});
		expect(createEmbedder(testConfig({}).embeddings)).toBeNull();
	});
});

describe.each(drivers)('retrieval with embeddings on %s', (driver) => {
	let t: TestDatabase;
	let fake: Awaited<ReturnType<typeof startFakeEmbeddings>>;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
		fake = await startFakeEmbeddings();
		for (const lesson of LESSONS) await indexLesson(t.database.db, lesson);
	});
	afterAll(async () => {
		await fake?.close();
		await t?.drop();
	});

	it.each(['cohere', 'voyage'] as const)(
		'%s: embeds every passage once and ranks by meaning as well as words',
		async (provider) => {
			const db = t.database.db;
			await db.update(schema.coursePassages).set({ embedding: null });
			fake.requests.length = 0;
			const config = testConfig(
				provider === 'cohere'
					? { COHERE_API_KEY: 'ck-test', COHERE_BASE_URL: fake.url }
					: { VOYAGE_API_KEY: 'vk-test', VOYAGE_BASE_URL: fake.url }
			);
			const embedder = createEmbedder(config.embeddings)!;
			expect(await embedMissing(db, embedder)).toBe(LESSONS.length);
			expect(await embedMissing(db, embedder)).toBe(0);
			const [left] = await db
				.select({ n: count() })
				.from(schema.coursePassages)
				.where(isNull(schema.coursePassages.embedding));
			expect(left!.n).toBe(0);
			const [first] = fake.requests;
			if (provider === 'cohere') {
				expect(first).toMatchObject({
					path: '/v2/embed',
					body: {
						model: 'embed-english-v3.0',
						input_type: 'search_document',
						embedding_types: ['float']
					}
				});
				expect(first!.headers.authorization).toBe('Bearer ck-test');
			} else {
				expect(first).toMatchObject({
					path: '/v1/embeddings',
					body: { model: 'voyage-3.5', input_type: 'document' }
				});
			}
			const rows = await db.select().from(schema.coursePassages);
			expect(rows.every((r) => r.embedding?.length === DIMENSIONS)).toBe(true);

			// No passage contains "iterate" or "repeat", so keyword search finds nothing...
			const question = 'how can I iterate to repeat something';
			expect(await search(db, question, 3)).toEqual([]);
			// ...while the hybrid ranking finds the while-loop passage first.
			const retrieve = createRetriever(db, embedder);
			const found = await retrieve(question, 2);
			expect(found[0]?.title).toBe('Doing things more than once: While statements');
			expect(fake.requests.at(-1)!.body).toMatchObject(
				provider === 'cohere' ? { input_type: 'search_query' } : { input_type: 'query' }
			);
			// Words still count: a keyword-only match is found too.
			expect((await retrieve('traceback', 3)).map((p) => p.title)).toContain(
				'When things go wrong: Reading a traceback'
			);
		}
	);

	it('falls back to full-text search when the embedding service fails', async () => {
		const broken = await startFakeEmbeddings({ failWith: 503 });
		try {
			const embedder = createEmbedder(
				testConfig({ COHERE_API_KEY: 'ck', COHERE_BASE_URL: broken.url }).embeddings
			)!;
			const retrieve = createRetriever(t.database.db, embedder);
			const found = await retrieve('what does the last line of a traceback say', 3);
			expect(found[0]?.title).toBe('When things go wrong: Reading a traceback');
			await expect(embedMissing(t.database.db, embedder)).resolves.toBe(0);
		} finally {
			await broken.close();
		}
	});
});
