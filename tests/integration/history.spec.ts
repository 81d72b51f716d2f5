/**
 * The history a question reads: only the newest messages the prompt can use, whatever the length of
 * the conversation, and never fewer than the prompt's own trimming keeps.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/lib/server/db/index.ts';
import { users } from '../../src/lib/server/db/schema.ts';
import * as convos from '../../src/lib/server/tutor/conversations.ts';
import { trimHistory } from '../../src/lib/server/tutor/prompt.ts';
import { drivers, openTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe.each(drivers)('the history a question reads, on %s', (driver) => {
	let t: TestDatabase;
	let db: Db;
	let id: string;
	const COUNT = 600;

	beforeAll(async () => {
		t = await openTestDatabase(driver);
		db = t.database.db;
		const [u] = await db
			.insert(users)
			.values({ email: 'long@example.com', displayName: 'Long', passwordHash: '$argon2id$x' })
			.returning();
		id = (await convos.create(db, u!.id)).id;
		// Messages of varied length, one superseded answer among them, seq 1..COUNT.
		await db.execute(sql`
			insert into messages (conversation_id, role, content, status, seq)
			select ${id}::uuid, case when i % 2 = 1 then 'user' else 'assistant' end,
				'm' || i || ' ' || repeat('x', (i * 37) % 400),
				case when i = ${COUNT - 10} then 'superseded' else 'complete' end, i
			from generate_series(1, ${COUNT}) i`);
		await db.execute(sql`update conversations set last_seq = ${COUNT} where id = ${id}::uuid`);
	});
	afterAll(async () => t?.drop());

	it('reads the newest messages that fit, oldest first, and what the prompt keeps is the same as from the whole history', async () => {
		const all = await convos.history(db, id, 2_500_000);
		expect(all).toHaveLength(COUNT - 1);
		for (const tokens of [50, 1000, 6000]) {
			const recent = await convos.history(db, id, tokens);
			expect(recent.length).toBeLessThan(all.length);
			// The newest ones, in order, with no gap.
			expect(recent).toEqual(all.slice(-recent.length));
			const chat = (rows: typeof all) => rows.map((m) => ({ role: m.role, content: m.content }));
			expect(trimHistory(chat(recent), tokens)).toEqual(trimHistory(chat(all), tokens));
			// A replica's remembered history is cut by the same rule in memory.
			expect(convos.recentHistory(all, tokens)).toEqual(recent);
		}
	});

	it('leaves out the message being answered again', async () => {
		const all = await convos.history(db, id, 2_500_000);
		const last = all.at(-1)!;
		const without = await convos.history(db, id, 1000, last.id);
		expect(without.map((m) => m.id)).not.toContain(last.id);
		expect(without.at(-1)!.id).toBe(all.at(-2)!.id);
	});
});
