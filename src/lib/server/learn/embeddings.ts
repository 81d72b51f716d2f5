/**
 * Embeddings for course retrieval, from Cohere (`/v2/embed`) or Voyage (`/v1/embeddings`) over
 * plain HTTP. Vectors are stored as `real[]` in `course_passages.embedding`, so this works on any
 * PostgreSQL and on PGlite (no pgvector); similarity is computed in the process.
 *
 * @example
 * const embedder = createEmbedder(config.embeddings);
 * if (embedder) await embedMissing(db, embedder);
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Config } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import { coursePassages } from '#lib/server/db/schema.ts';
import { logger } from '#lib/server/log.ts';

export type EmbedKind = 'document' | 'query';

export interface Embedder {
	readonly name: 'cohere' | 'voyage';
	readonly model: string;
	embed(texts: string[], kind: EmbedKind, signal?: AbortSignal): Promise<number[][]>;
}

export class EmbeddingError extends Error {}

/** Texts per request: both services accept at least this many. */
const BATCH = 64;
const MAX_CHARS = 8000;

async function post(url: string, apiKey: string, body: unknown, signal?: AbortSignal) {
	const response = await fetch(url, {
		method: 'POST',
		headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
		body: JSON.stringify(body),
		signal: signal ?? AbortSignal.timeout(30_000)
	});
	if (!response.ok)
		throw new EmbeddingError(`embedding request failed with HTTP ${response.status}`);
	return (await response.json()) as unknown;
}

function vectors(list: unknown, count: number): number[][] {
	if (
		!Array.isArray(list) ||
		list.length !== count ||
		!list.every((v) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number'))
	)
		throw new EmbeddingError('embedding response is not in the expected shape');
	return list as number[][];
}

export function createEmbedder(config: Config['embeddings']): Embedder | null {
	if (!config.provider || !config.apiKey) return null;
	const { apiKey, model } = config;
	const base = config.baseUrl.replace(/\/+$/, '');
	if (config.provider === 'cohere')
		return {
			name: 'cohere',
			model,
			async embed(texts, kind, signal) {
				const data = (await post(
					`${base}/v2/embed`,
					apiKey,
					{
						model,
						texts: texts.map((t) => t.slice(0, MAX_CHARS)),
						input_type: kind === 'query' ? 'search_query' : 'search_document',
						embedding_types: ['float']
					},
					signal
				)) as { embeddings?: { float?: unknown } };
				return vectors(data.embeddings?.float, texts.length);
			}
		};
	return {
		name: 'voyage',
		model,
		async embed(texts, kind, signal) {
			const data = (await post(
				`${base}/v1/embeddings`,
				apiKey,
				{ model, input: texts.map((t) => t.slice(0, MAX_CHARS)), input_type: kind },
				signal
			)) as { data?: { embedding: unknown; index: number }[] };
			const sorted = [...(data.data ?? [])].sort((a, b) => a.index - b.index);
			return vectors(
				sorted.map((d) => d.embedding),
				texts.length
			);
		}
	};
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
	const n = Math.min(a.length, b.length);
	let dot = 0;
	let na = 0;
	let nb = 0;
	for (let i = 0; i < n; i++) {
		dot += a[i]! * b[i]!;
		na += a[i]! * a[i]!;
		nb += b[i]! * b[i]!;
	}
	return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * Embeds passages that have no vector yet, a batch at a time. Rows are claimed with SKIP LOCKED,
 * so replicas running this together never embed the same passage twice. Returns how many it did.
 */
export async function embedMissing(db: Db, embedder: Embedder): Promise<number> {
	let done = 0;
	for (;;) {
		const count = await db.transaction(async (tx) => {
			const rows = await tx
				.select({ id: coursePassages.id, title: coursePassages.title, body: coursePassages.body })
				.from(coursePassages)
				.where(isNull(coursePassages.embedding))
				.limit(BATCH)
				.for('update', { skipLocked: true });
			if (!rows.length) return 0;
			const embedded = await embedder.embed(
				rows.map((r) => `${r.title}\n\n${r.body}`),
				'document'
			);
			for (const [i, row] of rows.entries())
				await tx
					.update(coursePassages)
					.set({ embedding: embedded[i]! })
					.where(and(eq(coursePassages.id, row.id), isNull(coursePassages.embedding)));
			return rows.length;
		});
		done += count;
		if (count < BATCH) return done;
	}
}

/** Keeps passages embedded in the background: now, and whenever content changes later. */
export function startEmbedding(db: Db, embedder: Embedder, everyMs = 60_000) {
	let running = false;
	const tick = async () => {
		if (running) return;
		running = true;
		try {
			const n = await embedMissing(db, embedder);
			if (n) logger().info({ passages: n, provider: embedder.name }, 'course passages embedded');
		} catch (err) {
			logger().warn(
				{ err: (err as Error).message },
				'embedding course passages failed; will retry'
			);
		} finally {
			running = false;
		}
	};
	void tick();
	const timer = setInterval(() => void tick(), everyMs);
	timer.unref();
	return () => clearInterval(timer);
}

/** Passages with vectors, for ranking by similarity (a course has hundreds, not millions). */
export async function embeddedPassages(db: Db) {
	return db
		.select({
			id: coursePassages.id,
			source: coursePassages.source,
			title: coursePassages.title,
			body: coursePassages.body,
			embedding: sql<number[]>`${coursePassages.embedding}`
		})
		.from(coursePassages)
		.where(sql`${coursePassages.embedding} is not null`);
}
