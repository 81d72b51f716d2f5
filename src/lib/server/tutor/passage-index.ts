/**
 * The course passages' full-text index, held in memory, so that finding the passages for a
 * question costs no database round trip. The course search runs for every question before the
 * answer can start; under load a round trip's tail (tens of milliseconds at 500 concurrent
 * answers) went straight into the time to the first token.
 *
 * It ranks exactly as `search` (PostgreSQL's `ts_rank_cd` over the `tsv` column) does for the
 * tutor's queries: the documents' lexemes are PostgreSQL's own (read from `tsv`), a question's
 * words are reduced as the `english` configuration reduces them (its stop words, then the
 * Snowball English stemmer, Porter2), and for a query that ORs single lexemes `ts_rank_cd` is the
 * sum of the weights of the matching positions (A 1.0, B 0.4, C 0.2, D 0.1).
 *
 * Changes reach it without a round trip per question: a change made in this process (see
 * `passagesChanged`) makes the next search read the passages again, and every `checkMs` a search
 * also starts a background check of the table's fingerprint (other replicas' changes), serving
 * what it holds meanwhile.
 *
 * @example
 * const index = new PassageIndex(db);
 * const passages = await index.search('how do for loops end', 3);
 */
import { sql } from 'drizzle-orm';
import { stem } from 'porter2';
import { rowsOf, type Db } from '#lib/server/db/index.ts';
import { logger } from '#lib/server/log.ts';
import type { Passage } from './retrieval';

/** PostgreSQL's `english` stop words (`tsearch_data/english.stop`). */
const STOP_WORDS = new Set(
	`i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
	her hers herself it its itself they them their theirs themselves what which who whom this that
	these those am is are was were be been being have has had having do does did doing a an the and
	but if or because as until while of at by for with about against between into through during
	before after above below to from up down in out on off over under again further then once here
	there when where why how all any both each few more most other some such no nor not only own
	same so than too very s t can will just don should now`.split(/\s+/)
);

/** `ts_rank_cd`'s default weights of the labels D, C, B, A. */
const WEIGHTS: Record<string, number> = { D: 0.1, C: 0.2, B: 0.4, A: 1.0 };

/** The words of a question as the tutor's query takes them (at most 32, two characters or more). */
export function questionWords(question: string): string[] {
	return (
		question
			.toLowerCase()
			.match(/[\p{L}\p{N}_]{2,}/gu)
			?.slice(0, 32) ?? []
	);
}

/** The lexemes `to_tsquery('english', …)` makes of `words` (stop words dropped, stems). */
export function queryLexemes(words: string[]): Set<string> {
	const lexemes = new Set<string>();
	// PostgreSQL's parser splits words at underscores.
	for (const word of words.flatMap((w) => w.split('_')))
		if (word && !STOP_WORDS.has(word)) lexemes.add(/^\p{N}+$/u.test(word) ? word : stem(word));
	return lexemes;
}

/**
 * A tsvector's text form (`'loop':3A,17B 'python':1`) as lexeme -> the sum of its positions'
 * weights.
 */
export function parseTsvector(text: string): Map<string, number> {
	const weights = new Map<string, number>();
	for (const m of text.matchAll(/'((?:[^']|'')*)'(?::([0-9A-D,]+))?/g)) {
		const lexeme = m[1]!.replace(/''/g, "'").replace(/\\(.)/g, '$1');
		const positions = m[2]?.split(',') ?? [''];
		let sum = 0;
		for (const p of positions) sum += WEIGHTS[p.at(-1)!] ?? WEIGHTS.D!;
		weights.set(lexeme, sum);
	}
	return weights;
}

interface Indexed {
	passages: Omit<Passage, 'rank'>[];
	/** lexeme -> [passage index, weight sum] */
	postings: Map<string, [number, number][]>;
	fingerprint: string;
}

let version = 0;

/** Call after changing `course_passages` in this process: indexes read them again before use. */
export function passagesChanged() {
	version++;
}

export class PassageIndex {
	readonly #db: Db;
	readonly #checkMs: number;
	#indexed: Promise<Indexed> | null = null;
	#version = -1;
	#checkedAt = 0;
	#checking = false;

	constructor(db: Db, options: { checkMs?: number } = {}) {
		this.#db = db;
		this.#checkMs = options.checkMs ?? 5000;
	}

	/** The `limit` passages sharing most weight with the question's words, best first. */
	async search(question: string, limit: number): Promise<Passage[]> {
		const lexemes = queryLexemes(questionWords(question));
		if (!lexemes.size) return [];
		const index = await this.#current();
		const scores = new Map<number, number>();
		for (const lexeme of lexemes)
			for (const [i, weight] of index.postings.get(lexeme) ?? [])
				scores.set(i, (scores.get(i) ?? 0) + weight);
		return [...scores]
			.sort((a, b) => b[1] - a[1] || a[0] - b[0])
			.slice(0, limit)
			.map(([i, rank]) => ({ ...index.passages[i]!, rank: Math.fround(rank) }));
	}

	#current(): Promise<Indexed> {
		if (!this.#indexed || this.#version !== version) {
			this.#version = version;
			this.#checkedAt = Date.now();
			this.#indexed = this.#load();
			this.#indexed.catch(() => (this.#indexed = null)); // the next search tries again
		} else if (Date.now() - this.#checkedAt >= this.#checkMs && !this.#checking) {
			this.#checkedAt = Date.now();
			void this.#check(this.#indexed);
		}
		return this.#indexed;
	}

	/** Reads the passages again if the table changed (another replica), keeping the old meanwhile. */
	async #check(held: Promise<Indexed>) {
		this.#checking = true;
		try {
			const [now, before] = await Promise.all([fingerprint(this.#db), held]);
			if (now !== before.fingerprint && this.#indexed === held) {
				const next = this.#load();
				await next;
				if (this.#indexed === held) this.#indexed = next;
			}
		} catch (err) {
			logger().warn({ err }, 'checking the course passages failed; keeping the index');
		} finally {
			this.#checking = false;
		}
	}

	async #load(): Promise<Indexed> {
		// One statement, so the fingerprint is that of the rows read.
		const rows = rowsOf<Omit<Passage, 'rank'> & { tsv: string | null; fingerprint: string }>(
			await this.#db.execute(sql`
				select f.fingerprint, p.id, p.source, p.title, p.body, p.tsv::text as tsv
				from (select ${FINGERPRINT} as fingerprint) f
				left join course_passages p on true
				order by p.id`)
		);
		const passages: Indexed['passages'] = [];
		const postings = new Map<string, [number, number][]>();
		for (const row of rows) {
			if (row.id === null) continue; // no passages: the fingerprint's row alone
			const i = passages.push({ id: row.id, source: row.source, title: row.title, body: row.body });
			for (const [lexeme, weight] of parseTsvector(row.tsv ?? '')) {
				let list = postings.get(lexeme);
				if (!list) postings.set(lexeme, (list = []));
				list.push([i - 1, weight]);
			}
		}
		return { passages, postings, fingerprint: String(rows[0]?.fingerprint) };
	}
}

/** Changes when a passage is added, removed or rewritten (a rewrite gets a new row version). */
const FINGERPRINT = sql`(select count(*) || ':' || coalesce(sum(hashtext(id::text || xmin::text)), 0) from course_passages)`;

async function fingerprint(db: Db): Promise<string> {
	const [row] = rowsOf<{ fingerprint: string }>(
		await db.execute(sql`select ${FINGERPRINT} as fingerprint`)
	);
	return String(row?.fingerprint);
}
