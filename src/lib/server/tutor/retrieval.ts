/**
 * Finds course passages relevant to a question with PostgreSQL full-text search (works the same on
 * PostgreSQL and PGlite). Lessons fill `course_passages`; until they exist this finds nothing.
 *
 * @example
 * const passages = await retrieval.search(db, 'how do for loops work', 3);
 */
import { desc, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { coursePassages } from '../db/schema';

export interface Passage {
	id: string;
	source: string;
	title: string;
	body: string;
	rank: number;
}

export async function search(db: Db, question: string, limit = 4): Promise<Passage[]> {
	const words = question
		.toLowerCase()
		.match(/[\p{L}\p{N}_]{2,}/gu)
		?.slice(0, 32);
	if (!words?.length) return [];
	// OR the words so a question matches passages that share some of its terms; rank sorts them.
	const query = sql`to_tsquery('english', ${words.map((w) => w.replace(/'/g, '')).join(' | ')})`;
	const rank = sql<number>`ts_rank_cd(${coursePassages.tsv}, ${query})`;
	return db
		.select({
			id: coursePassages.id,
			source: coursePassages.source,
			title: coursePassages.title,
			body: coursePassages.body,
			rank
		})
		.from(coursePassages)
		.where(sql`${coursePassages.tsv} @@ ${query}`)
		.orderBy(desc(rank))
		.limit(limit);
}
