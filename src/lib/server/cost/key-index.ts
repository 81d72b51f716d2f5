/**
 * The response cache's live keys, in memory, so that a question nobody asked before (most of them)
 * costs no lookup on the way to its first token. Keys written here are added at once; other
 * replicas' are read every REFRESH_MS (missing one then costs a call, never a wrong answer).
 *
 * @example
 * const keys = new KeyIndex(); keys.start(() => db);
 * if (keys.mayHave(key)) hit = await cache.lookup(db, key);
 */
import { and, gt, sql } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { responseCache } from '#lib/server/db/schema.ts';
import { logger } from '#lib/server/log.ts';

export class KeyIndex {
	static readonly REFRESH_MS = 10_000;
	static readonly MAX_KEYS = 200_000;
	readonly #keys = new Map<string, number>();
	#since: Date | null = null;
	#loaded = false;
	#full = false;
	#timer: ReturnType<typeof setInterval> | undefined;

	/** Loads the keys and keeps reading new ones until `stop`. */
	async start(db: () => Db) {
		const refresh = () =>
			this.refresh(db()).catch((err) =>
				logger().warn({ err }, 'reading the response cache keys failed')
			);
		await refresh();
		this.#timer = setInterval(() => void refresh(), KeyIndex.REFRESH_MS);
		this.#timer.unref();
	}

	stop() {
		clearInterval(this.#timer);
	}

	/** Reads the entries created since the last refresh. */
	async refresh(db: Db) {
		const since = this.#since ? gt(responseCache.createdAt, this.#since) : undefined;
		const rows = await db
			.select({
				key: responseCache.key,
				expiresAt: responseCache.expiresAt,
				createdAt: responseCache.createdAt
			})
			.from(responseCache)
			.where(and(gt(responseCache.expiresAt, sql`now()`), since));
		this.load(rows);
	}

	load(rows: { key: string; expiresAt: Date; createdAt: Date }[]) {
		const now = Date.now();
		for (const [key, expires] of this.#keys) if (expires < now) this.#keys.delete(key);
		for (const r of rows) {
			this.add(r.key, r.expiresAt.getTime());
			if (!this.#since || r.createdAt > this.#since) this.#since = r.createdAt;
		}
		this.#loaded = true;
	}

	add(key: string, expiresAt: number) {
		if (this.#keys.size >= KeyIndex.MAX_KEYS && !this.#keys.has(key)) this.#full = true;
		else this.#keys.set(key, expiresAt);
	}

	/** A lookup found no row (a lesson changed, say). */
	forget(key: string) {
		this.#keys.delete(key);
	}

	/** Whether the database may hold a live entry for `key` (always, until loaded or when full). */
	mayHave(key: string): boolean {
		if (!this.#loaded || this.#full) return true;
		const expires = this.#keys.get(key);
		return expires !== undefined && expires > Date.now();
	}
}
