import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/lib/server/db/index.ts';
import * as rateLimit from '../../src/lib/server/rate-limit.ts';
import {
	createPostgresDatabase,
	drivers,
	openTestDatabase,
	TEST_DATABASE_URL
} from '../helpers/db.ts';

describe.each(drivers)('rate limits on %s', (driver) => {
	it('admits exactly the limit within a window, then resets after it', async () => {
		const t = await openTestDatabase(driver);
		try {
			const rule = { limit: 5, windowSeconds: 1 };
			const results = await Promise.all(
				Array.from({ length: 12 }, () => rateLimit.hit(t.database.db, 'k:burst', rule))
			);
			expect(results.filter((r) => r.allowed).length).toBe(5);
			expect(results.every((r) => r.retryAfterSeconds >= 1)).toBe(true);
			await new Promise((r) => setTimeout(r, 1100));
			expect((await rateLimit.hit(t.database.db, 'k:burst', rule)).allowed).toBe(true);
		} finally {
			await t.drop();
		}
	});
});

describe.runIf(TEST_DATABASE_URL)('rate limits across replicas (PostgreSQL)', () => {
	const opened: Database[] = [];
	let drop: (() => Promise<void>) | undefined;
	afterAll(async () => {
		for (const d of opened) await d.close();
		await drop?.();
	});

	it('two independent connection pools share one counter and admit exactly the limit', async () => {
		const created = await createPostgresDatabase();
		drop = created.drop;
		// Two "replicas" migrating at once: the advisory lock makes that safe.
		const [a, b] = await Promise.all([
			openDatabase({ url: created.url, poolMax: 8 }),
			openDatabase({ url: created.url, poolMax: 8 })
		]);
		opened.push(a, b);
		const rule = { limit: 20, windowSeconds: 60 };
		const hits = await Promise.all(
			Array.from({ length: 60 }, (_, i) =>
				rateLimit.hit((i % 2 ? a : b).db, 'login:ip:shared', rule)
			)
		);
		expect(hits.filter((h) => h.allowed).length).toBe(20);
	});
});
