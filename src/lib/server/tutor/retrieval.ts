/**
 * Finds course passages relevant to a question with PostgreSQL full-text search (works the same on
 * PostgreSQL and PGlite). Lessons fill `course_passages`; until they exist this finds nothing.
 * `search` asks the database; the tutor's retriever (`createRetriever`) ranks the same way from
 * an index in memory (see `PassageIndex`), with no round trip per question.
 *
 * @example
 * const passages = await retrieval.search(db, 'how do for loops work', 3);
 */
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '#lib/server/db/index.ts';
import { cosine, embeddedPassages, type Embedder } from '#lib/server/learn/embeddings.ts';
import { logger } from '#lib/server/log.ts';
import { PassageIndex, questionWords } from './passage-index';

export interface Passage {
	id: string;
	source: string;
	title: string;
	body: string;
	rank: number;
}

export async function search(db: Db, question: string, limit = 4): Promise<Passage[]> {
	const words = questionWords(question);
	if (!words.length) return [];
	// OR the words so a question matches passages that share some of its terms; rank sorts them.
	const query = sql`to_tsquery('english', ${words.map((w) => w.replace(/'/g, '')).join(' | ')})`;
	const rows = await db.execute(sql`
		select id, source, title, body, ts_rank_cd(tsv, ${query}) as rank
		from course_passages where tsv @@ ${query}
		order by rank desc limit ${limit}`);
	return rowsOf<Passage>(rows).map((r) => ({ ...r, rank: Number(r.rank) }));
}

export type Retrieve = (question: string, limit: number) => Promise<Passage[]>;

/** Reciprocal-rank fusion constant: how much the top of each list outweighs its tail. */
const RRF_K = 60;
const CANDIDATES = 20;

/**
 * The tutor's retrieval: full-text search alone, or, with an embedder, full-text and vector
 * similarity ranked together by reciprocal-rank fusion (a passage high in either list comes
 * first; one high in both comes before both). If the embedding service fails or is slow, the
 * full-text result is used on its own.
 */
export function createRetriever(
	db: Db,
	embedder: Embedder | null,
	options: { cacheMs?: number; queryTimeoutMs?: number } = {}
): Retrieve {
	const index = new PassageIndex(db);
	if (!embedder) return (question, limit) => index.search(question, limit);
	const cacheMs = options.cacheMs ?? 60_000;
	let cache: { at: number; rows: Promise<Awaited<ReturnType<typeof embeddedPassages>>> } | null =
		null;
	const vectors = () => {
		if (!cache || Date.now() - cache.at > cacheMs) {
			const rows = embeddedPassages(db);
			cache = { at: Date.now(), rows };
			rows.catch(() => (cache = null));
		}
		return cache.rows;
	};
	return async (question, limit) => {
		const [text, similar] = await Promise.all([
			index.search(question, CANDIDATES),
			(async () => {
				try {
					const [query] = await embedder.embed(
						[question],
						'query',
						AbortSignal.timeout(options.queryTimeoutMs ?? 3000)
					);
					const rows = await vectors();
					return rows
						.map((r) => ({ ...r, rank: cosine(query!, r.embedding) }))
						.sort((a, b) => b.rank - a.rank)
						.slice(0, CANDIDATES);
				} catch (err) {
					logger().warn({ err: (err as Error).message }, 'query embedding failed; full-text only');
					return [];
				}
			})()
		]);
		const fused = new Map<string, Passage & { score: number }>();
		for (const list of [text, similar])
			list.forEach((p, i) => {
				const entry = fused.get(p.id) ?? {
					id: p.id,
					source: p.source,
					title: p.title,
					body: p.body,
					rank: 0,
					score: 0
				};
				entry.score += 1 / (RRF_K + i + 1);
				fused.set(p.id, entry);
			});
		return [...fused.values()]
			.sort((a, b) => b.score - a.score)
			.slice(0, limit)
			.map(({ score, ...p }) => ({ ...p, rank: score }));
	};
}
