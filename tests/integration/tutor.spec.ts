/**
 * The durable session engine on each database driver, with the mock provider: ordered log,
 * resume without loss or duplicates, stop, continue, regenerate, one generation at a time,
 * fencing, crash recovery, slow sockets and ownership.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desc, eq, sql, type SQL } from 'drizzle-orm';
import { createMockProvider } from '../../src/lib/server/ai/mock.ts';
import { ProviderError, type ChatMessage, type Provider } from '../../src/lib/server/ai/types.ts';
import { schema } from '../../src/lib/server/db/index.ts';
import * as convos from '../../src/lib/server/tutor/conversations.ts';
import { RECOVERY_GAP, TutorEngine } from '../../src/lib/server/tutor/engine.ts';
import * as log from '../../src/lib/server/tutor/log.ts';
import type { LogEvent, ServerMessage } from '../../src/lib/ws/protocol.ts';
import { testConfig } from '../helpers/config.ts';
import { renderedText } from '../helpers/ws.ts';
import { drivers, openTestDatabase, type TestDatabase } from '../helpers/db.ts';

class FakeSocket {
	messages: ServerMessage[] = [];
	buffered = 0;
	send(message: ServerMessage) {
		this.messages.push(message);
	}
	bufferedAmount() {
		return this.buffered;
	}
	events(conversationId: string): LogEvent[] {
		return this.messages.flatMap((m) =>
			m.type === 'event' && m.conversationId === conversationId ? [m.event] : []
		);
	}
	snapshots() {
		return this.messages.filter((m) => m.type === 'snapshot');
	}
	/** The answer text as this client would render it: snapshot content plus deltas after it. */
	text(conversationId: string, messageId: string) {
		return renderedText(this.messages, conversationId, messageId);
	}
}

const until = async (check: () => boolean | Promise<boolean>, ms = 10_000) => {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error('timed out waiting');
		await new Promise((r) => setTimeout(r, 10));
	}
};

describe.each(drivers)('tutor sessions on %s', (driver) => {
	let t: TestDatabase;
	let engine: TutorEngine;
	let userId: string;
	let otherId: string;
	const config = testConfig({
		LLM_PROVIDER: 'mock',
		TUTOR_FLUSH_MS: '40',
		TUTOR_LEASE_SECONDS: '3',
		TUTOR_RATE_LIMIT: '1000'
	});

	beforeAll(async () => {
		t = await openTestDatabase(driver);
		const [a, b] = await t.database.db
			.insert(schema.users)
			.values([
				{ email: 'a@example.com', displayName: 'A', passwordHash: 'x' },
				{ email: 'b@example.com', displayName: 'B', passwordHash: 'x' }
			])
			.returning();
		userId = a!.id;
		otherId = b!.id;
		engine = new TutorEngine({
			database: t.database,
			config,
			provider: createMockProvider({ tokenDelayMs: 5, tokenCount: 30 })
		});
		await engine.start();
	});
	afterAll(async () => {
		await engine?.close(1000);
		await t?.drop();
	});

	const answerOf = async (conversationId: string) => {
		const rows = await t.database.db
			.select()
			.from(schema.messages)
			.where(eq(schema.messages.conversationId, conversationId))
			.orderBy(schema.messages.seq);
		return rows.filter((r) => r.role === 'assistant' && r.status !== 'superseded').at(-1)!;
	};
	const idle =
		(conversationId: string, owner = userId) =>
		async () => {
			const c = await convos.get(t.database.db, owner, conversationId);
			return c?.generationId === null;
		};

	it('streams an answer into an ordered, persisted log that replays exactly', async () => {
		const c = await convos.create(t.database.db, userId);
		const socket = new FakeSocket();
		const sub = await engine.subscribe(socket, userId, c.id, undefined);
		expect(sub.ok).toBe(true);
		expect(socket.snapshots()).toHaveLength(1);
		expect(await engine.send(userId, c.id, 'client-msg-1', 'How do loops work?')).toEqual({
			ok: true
		});
		await until(() => socket.events(c.id).some((e) => e.type === 'done'));
		await until(idle(c.id));
		const events = socket.events(c.id);
		expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
		expect(events[0]).toMatchObject({ type: 'user', text: 'How do loops work?' });
		expect(events.filter((e) => e.type === 'delta')).toHaveLength(30);
		const answer = await answerOf(c.id);
		expect(answer.status).toBe('complete');
		expect(socket.text(c.id, answer.id)).toBe(answer.content);
		expect(answer.content).toContain('How do loops work?');
		// The saved log is the same sequence the live watcher saw.
		expect(await log.replay(t.database.db, c.id, 0)).toEqual(events);
		const conversation = await convos.get(t.database.db, userId, c.id);
		expect(conversation?.title).toBe('How do loops work?');
		expect(conversation?.lastSeq).toBe(events.at(-1)!.seq);
	});

	it('resumes from any sequence number with no gap and no duplicate, mid-answer too', async () => {
		const c = await convos.create(t.database.db, userId);
		const first = new FakeSocket();
		await engine.subscribe(first, userId, c.id, undefined);
		await engine.send(userId, c.id, 'client-msg-2', 'Resume me [mock:tokens:60]');
		await until(() => first.events(c.id).filter((e) => e.type === 'delta').length >= 12);
		// A reload: a new socket that rendered up to some event (persisted or still in memory).
		const cut = first.events(c.id)[8]!.seq;
		const second = new FakeSocket();
		await engine.subscribe(second, userId, c.id, cut);
		await until(idle(c.id));
		await until(() => second.events(c.id).some((e) => e.type === 'done'));
		const answer = await answerOf(c.id);
		const rendered =
			first
				.events(c.id)
				.filter((e) => e.seq <= cut && e.type === 'delta')
				.map((e) => (e.type === 'delta' ? e.text : ''))
				.join('') +
			second
				.events(c.id)
				.map((e) => (e.type === 'delta' ? e.text : ''))
				.join('');
		expect(rendered).toBe(answer.content);
		expect(second.events(c.id)[0]!.seq).toBe(cut + 1);
		// A late joiner with no position gets a snapshot equal to the saved answer.
		const late = new FakeSocket();
		await engine.subscribe(late, userId, c.id, 0);
		expect(late.snapshots()[0]).toMatchObject({ type: 'snapshot', generating: false });
		expect(late.text(c.id, answer.id)).toBe(answer.content);
	});

	it('keeps generating and saves the answer after every watcher left', async () => {
		const c = await convos.create(t.database.db, userId);
		const socket = new FakeSocket();
		const sub = await engine.subscribe(socket, userId, c.id, undefined);
		await engine.send(userId, c.id, 'client-msg-3', 'Close the tab [mock:tokens:20]');
		await until(() => socket.events(c.id).some((e) => e.type === 'delta'));
		if (sub.ok) engine.fanout.remove(sub.subscription);
		await until(idle(c.id));
		const answer = await answerOf(c.id);
		expect(answer.status).toBe('complete');
		expect(answer.content.match(/Token \d+/g)).toHaveLength(20);
	});

	it('stops: the partial answer is saved, every watcher is told, and Continue appends to it', async () => {
		const c = await convos.create(t.database.db, userId);
		const a = new FakeSocket();
		const b = new FakeSocket();
		await engine.subscribe(a, userId, c.id, undefined);
		await engine.subscribe(b, userId, c.id, undefined);
		await engine.send(userId, c.id, 'client-msg-4', 'Stop me [mock:tokens:500]');
		await until(() => a.events(c.id).filter((e) => e.type === 'delta').length >= 5);
		expect(await engine.stop(userId, c.id)).toEqual({ ok: true });
		await until(idle(c.id));
		const stopped = await answerOf(c.id);
		expect(stopped.status).toBe('stopped');
		for (const s of [a, b]) {
			await until(() => s.events(c.id).some((e) => e.type === 'stopped'));
			expect(s.text(c.id, stopped.id)).toBe(stopped.content);
		}
		const before = stopped.content;
		expect(await engine.continueAnswer(userId, c.id)).toEqual({ ok: true });
		await until(() => a.events(c.id).some((e) => e.type === 'start' && e.continued));
		await until(idle(c.id));
		const continued = await answerOf(c.id);
		expect(continued.id).toBe(stopped.id);
		expect(continued.status).toBe('complete');
		expect(continued.content.startsWith(before)).toBe(true);
		expect(continued.content.length).toBeGreaterThan(before.length);
		expect(a.text(c.id, continued.id)).toBe(continued.content);
	});

	it('runs one generation per conversation and ignores a resent message', async () => {
		const c = await convos.create(t.database.db, userId);
		await engine.send(userId, c.id, 'client-msg-5', 'First [mock:tokens:100]');
		expect(await engine.send(userId, c.id, 'client-msg-6', 'Second')).toMatchObject({
			ok: false,
			code: 'busy'
		});
		expect(await engine.regenerate(userId, c.id)).toMatchObject({ ok: false, code: 'busy' });
		// The same message again (a reconnect resend) is accepted without a second copy.
		expect(await engine.send(userId, c.id, 'client-msg-5', 'First [mock:tokens:100]')).toEqual({
			ok: true
		});
		await engine.stop(userId, c.id);
		await until(idle(c.id));
		const rows = await t.database.db
			.select()
			.from(schema.messages)
			.where(eq(schema.messages.conversationId, c.id));
		expect(rows.filter((r) => r.role === 'user')).toHaveLength(1);
	});

	it('regenerate replaces the last answer; a provider error is saved with a clear message', async () => {
		const c = await convos.create(t.database.db, userId);
		const s = new FakeSocket();
		await engine.subscribe(s, userId, c.id, undefined);
		await engine.send(userId, c.id, 'client-msg-7', 'Fail [mock:error:bad_request]');
		await until(idle(c.id));
		const failed = await answerOf(c.id);
		expect(failed).toMatchObject({ status: 'error', errorKind: 'bad_request', content: '' });
		const errorEvent = s.events(c.id).find((e) => e.type === 'error');
		expect(errorEvent).toMatchObject({ kind: 'bad_request', retryable: true });
		expect(errorEvent && 'message' in errorEvent && errorEvent.message).toMatch(
			/could not process/
		);
		expect(await engine.regenerate(userId, c.id)).toEqual({ ok: true });
		await until(idle(c.id));
		const start = s.events(c.id).findLast((e) => e.type === 'start');
		expect(start).toMatchObject({ replaces: failed.id });
		// Same marker in the question, so it fails again; the old answer is superseded either way.
		const [old] = await t.database.db
			.select()
			.from(schema.messages)
			.where(eq(schema.messages.id, failed.id));
		expect(old!.status).toBe('superseded');
	});

	it('a generation that lost its lease stops writing (fencing)', async () => {
		const c = await convos.create(t.database.db, userId);
		await engine.send(userId, c.id, 'client-msg-8', 'Fence me [mock:tokens:400]');
		await until(async () => (await answerOf(c.id)).content.length > 0);
		// Another replica took over (as after a lease expiry).
		await t.database.db
			.update(schema.conversations)
			.set({ generationId: crypto.randomUUID() })
			.where(eq(schema.conversations.id, c.id));
		await until(() => engine.activeGenerations === 0);
		const frozen = (await answerOf(c.id)).content;
		await new Promise((r) => setTimeout(r, 200));
		expect((await answerOf(c.id)).content).toBe(frozen);
		await t.database.db
			.update(schema.conversations)
			.set({ generationId: null })
			.where(eq(schema.conversations.id, c.id));
	});

	it('marks a dead owner’s partial answer interrupted, past anything it could have shown', async () => {
		const c = await convos.create(t.database.db, userId);
		// What a crashed replica leaves behind: a streaming answer, an expired lease.
		const db = t.database.db;
		const [user] = await db
			.insert(schema.messages)
			.values({ conversationId: c.id, role: 'user', content: 'q', status: 'complete', seq: 1 })
			.returning();
		const [answer] = await db
			.insert(schema.messages)
			.values({
				conversationId: c.id,
				role: 'assistant',
				content: 'Half an ans',
				status: 'streaming',
				seq: 2
			})
			.returning();
		await log.append(db, c.id, [
			{ seq: 1, type: 'user', messageId: user!.id, text: 'q' },
			{ seq: 2, type: 'start', messageId: answer!.id },
			{ seq: 3, type: 'delta', messageId: answer!.id, text: 'Half an ans' }
		]);
		await db
			.update(schema.conversations)
			.set({
				lastSeq: 3,
				generationId: crypto.randomUUID(),
				leaseOwner: 'dead-replica',
				leaseExpiresAt: sql`now() - interval '1 second'`
			})
			.where(eq(schema.conversations.id, c.id));
		const watcher = new FakeSocket();
		await engine.subscribe(watcher, userId, c.id, 3);
		await until(() => watcher.events(c.id).some((e) => e.type === 'interrupted'));
		const interrupted = watcher.events(c.id).find((e) => e.type === 'interrupted')!;
		expect(interrupted.seq).toBe(3 + RECOVERY_GAP);
		expect(await answerOf(c.id)).toMatchObject({ status: 'interrupted', content: 'Half an ans' });
		// A client that had rendered text the dead owner never saved (seq 5) gets the saved truth.
		const phantom = new FakeSocket();
		await engine.subscribe(phantom, userId, c.id, 5);
		expect(phantom.snapshots()).toHaveLength(1);
		expect(phantom.text(c.id, answer!.id)).toBe('Half an ans');
		// Continue works after recovery.
		expect(await engine.continueAnswer(userId, c.id)).toEqual({ ok: true });
		await until(idle(c.id));
		expect((await answerOf(c.id)).content.startsWith('Half an ans')).toBe(true);
	});

	it('recovery keeps text the dead owner logged after it last saved the message', async () => {
		const c = await convos.create(t.database.db, userId);
		const db = t.database.db;
		const [answer] = await db
			.insert(schema.messages)
			.values({
				conversationId: c.id,
				role: 'assistant',
				content: 'Saved',
				status: 'streaming',
				seq: 1
			})
			.returning();
		// The message row was written at seq 2; two more flushes logged deltas 3..5 only.
		await log.append(db, c.id, [
			{ seq: 1, type: 'start', messageId: answer!.id },
			{ seq: 2, type: 'delta', messageId: answer!.id, text: 'Saved' }
		]);
		await log.append(db, c.id, [
			{ seq: 3, type: 'delta', messageId: answer!.id, text: ' and' },
			{ seq: 4, type: 'delta', messageId: answer!.id, text: ' logged' }
		]);
		await log.append(db, c.id, [{ seq: 5, type: 'delta', messageId: answer!.id, text: ' text' }]);
		await db
			.update(schema.conversations)
			.set({
				lastSeq: 2,
				generationId: crypto.randomUUID(),
				leaseOwner: 'dead-replica',
				leaseExpiresAt: sql`now() - interval '1 second'`
			})
			.where(eq(schema.conversations.id, c.id));
		await engine.recoverExpired();
		expect(await answerOf(c.id)).toMatchObject({
			status: 'interrupted',
			content: 'Saved and logged text'
		});
		const conversation = await convos.get(db, userId, c.id);
		// Numbering resumes past everything in the log, not just past the saved row.
		expect(conversation?.lastSeq).toBe(5 + RECOVERY_GAP);
		const watcher = new FakeSocket();
		await engine.subscribe(watcher, userId, c.id, undefined);
		expect(watcher.text(c.id, answer!.id)).toBe('Saved and logged text');
	});

	it('a slow socket never holds up the answer or other watchers, then catches up exactly', async () => {
		const c = await convos.create(t.database.db, userId);
		const slow = new FakeSocket();
		const fast = new FakeSocket();
		await engine.subscribe(slow, userId, c.id, undefined);
		await engine.subscribe(fast, userId, c.id, undefined);
		slow.buffered = 10 << 20;
		await engine.send(userId, c.id, 'client-msg-9', 'Slow [mock:tokens:40]');
		await until(idle(c.id));
		const answer = await answerOf(c.id);
		expect(fast.text(c.id, answer.id)).toBe(answer.content);
		expect(slow.events(c.id).some((e) => e.type === 'done')).toBe(false);
		slow.buffered = 0;
		await until(() => slow.events(c.id).some((e) => e.type === 'done'));
		expect(slow.text(c.id, answer.id)).toBe(answer.content);
	});

	// Notifications are PostgreSQL's: on PGlite there is one process and no other replica.
	it.runIf(driver === 'postgres')(
		'watchers on another replica see every answer live when one flush writes more conversations than one notification names',
		async () => {
			// More conversations than fit in one notification (NOTICES_PER_PAYLOAD is 80), all
			// answered at once: one per student (a student's daily budget covers a few answers at
			// once), on a database of their own.
			const count = 100;
			const own = await openTestDatabase('postgres');
			const students = await own.database.db
				.insert(schema.users)
				.values(
					Array.from({ length: count }, (_, i) => ({
						email: `many-${i}@example.com`,
						displayName: `Student ${i}`,
						passwordHash: 'x'
					}))
				)
				.returning();
			const [owner, watcher] = [0, 1].map(
				() =>
					new TutorEngine({
						database: own.database,
						config,
						provider: createMockProvider({ tokenDelayMs: 5, tokenCount: 30 })
					})
			) as [TutorEngine, TutorEngine];
			await owner.start();
			await watcher.start();
			try {
				const ids = await Promise.all(
					Array.from(
						{ length: count },
						async (_, i) => (await convos.create(own.database.db, students[i]!.id)).id
					)
				);
				const sockets = ids.map(() => new FakeSocket());
				await Promise.all(
					ids.map((id, i) => watcher.subscribe(sockets[i]!, students[i]!.id, id, undefined))
				);
				const sent = await Promise.all(
					ids.map((id, i) =>
						owner.send(students[i]!.id, id, crypto.randomUUID(), `Tell me about ${id}`)
					)
				);
				expect(sent.every((r) => r.ok)).toBe(true);
				// Each watcher sees its answer finish without asking again: only notifications bring it.
				await until(
					() => ids.every((id, i) => sockets[i]!.events(id).some((e) => e.type === 'done')),
					20_000
				);
				for (const [i, id] of ids.entries()) {
					const [answer] = await own.database.db
						.select()
						.from(schema.messages)
						.where(eq(schema.messages.conversationId, id))
						.orderBy(desc(schema.messages.seq))
						.limit(1);
					expect(answer!.status).toBe('complete');
					expect(sockets[i]!.text(id, answer!.id)).toBe(answer!.content);
				}
			} finally {
				await Promise.all([owner.close(1000), watcher.close(1000)]);
				await own.drop();
			}
		},
		30_000
	);

	it.runIf(driver === 'postgres')(
		'a watcher on another replica sees the question before the first token of a slow answer',
		async () => {
			// The send statement notifies no one (see TutorEngine.#begin): the next flush tells other
			// replicas of the question even though the answer has streamed nothing yet.
			const watcher = new TutorEngine({
				database: t.database,
				config,
				provider: createMockProvider({ tokenDelayMs: 5, tokenCount: 30 })
			});
			await watcher.start();
			try {
				const c = await convos.create(t.database.db, userId);
				const socket = new FakeSocket();
				await watcher.subscribe(socket, userId, c.id, undefined);
				const sentAt = Date.now();
				await engine.send(userId, c.id, crypto.randomUUID(), 'Slow one [mock:delay:3000]');
				await until(() => socket.events(c.id).some((e) => e.type === 'start'), 2500);
				expect(Date.now() - sentAt).toBeLessThan(2500);
				expect(socket.events(c.id).map((e) => e.type)).toEqual(['user', 'start']);
				await engine.stop(userId, c.id);
				await until(idle(c.id));
			} finally {
				await watcher.close(1000);
			}
		}
	);

	it('another student can neither watch, write to, stop nor continue a conversation', async () => {
		const c = await convos.create(t.database.db, userId);
		const s = new FakeSocket();
		expect(await engine.subscribe(s, otherId, c.id, undefined)).toMatchObject({
			ok: false,
			code: 'not_found'
		});
		expect(s.messages).toEqual([]);
		expect(await engine.send(otherId, c.id, 'client-msg-10', 'hi')).toMatchObject({
			code: 'not_found'
		});
		expect(await engine.stop(otherId, c.id)).toMatchObject({ code: 'not_found' });
		expect(await engine.continueAnswer(otherId, c.id)).toMatchObject({ code: 'not_found' });
		expect(await engine.regenerate(otherId, c.id)).toMatchObject({ code: 'not_found' });
		expect(await convos.get(t.database.db, otherId, c.id)).toBeNull();
		expect(await convos.rename(t.database.db, otherId, c.id, 'mine now')).toBe(false);
		expect(await convos.remove(t.database.db, otherId, c.id)).toBe(false);
	});

	it('tells the tutor the student’s level, read by the send statement', async () => {
		const { calls, provider } = capture();
		const second = new TutorEngine({ database: t.database, config, provider });
		await second.start();
		try {
			const c = await convos.create(t.database.db, otherId);
			await second.send(otherId, c.id, crypto.randomUUID(), 'Hi');
			await until(() => calls.length === 1);
			expect(calls[0]!.system).not.toContain('Student level');
			await t.database.db.insert(schema.skillLevels).values([
				{ userId: otherId, area: 'fundamentals', level: 'advanced' },
				{ userId: otherId, area: 'data-structures', level: 'beginner' }
			]);
			await until(async () => !(await convos.get(t.database.db, otherId, c.id))?.generationId);
			await second.send(otherId, c.id, crypto.randomUUID(), 'Hi again');
			await until(async () => (await answerOf(c.id)).status === 'complete');
			// The early start guessed the level this replica last read (none): it was cancelled, and
			// the answer was made with the level the send statement read, the rounded-down mean.
			expect(calls).toHaveLength(3);
			expect(calls[1]!.signal.aborted).toBe(true);
			expect(calls[2]!.signal.aborted).toBe(false);
			expect(calls[2]!.system).toContain('Student level: intermediate.');
		} finally {
			await second.close(1000);
		}
	});

	it('a flush whose reply is lost after its commit is retried without repeating anything', async () => {
		// Every other flush commits, then its reply is "lost": the engine cannot know it was written.
		const { db } = t.database;
		const dialect = (db as unknown as { dialect: { sqlToQuery(q: SQL): { sql: string } } }).dialect;
		let flushes = 0;
		const background = new Proxy(t.database.background, {
			get(target, prop, receiver) {
				if (prop !== 'execute') return Reflect.get(target, prop, receiver);
				return async (query: SQL) => {
					const result = await target.execute(query);
					const text = dialect.sqlToQuery(query).sql;
					if (text.includes('insert into conversation_events') && ++flushes % 2 === 1)
						throw new Error('connection lost after COMMIT');
					return result;
				};
			}
		});
		const faulty = new TutorEngine({
			database: { ...t.database, background },
			config,
			provider: createMockProvider({ tokenDelayMs: 5, tokenCount: 30 })
		});
		await faulty.start();
		try {
			const c = await convos.create(db, userId);
			const socket = new FakeSocket();
			await faulty.subscribe(socket, userId, c.id, undefined);
			expect(await faulty.send(userId, c.id, 'lost-reply-1', 'Tell me about lists')).toEqual({
				ok: true
			});
			await until(idle(c.id));
			await until(() => socket.events(c.id).some((e) => e.type === 'done'));
			expect(flushes).toBeGreaterThan(2);
			const saved = await log.replay(db, c.id, 0);
			expect(saved.map((e) => e.seq)).toEqual(saved.map((_, i) => i + 1));
			expect(saved).toEqual(socket.events(c.id));
			const answer = await answerOf(c.id);
			expect(answer.status).toBe('complete');
			expect(answer.content).toBe(socket.text(c.id, answer.id));
			expect(answer.content).toBe(
				saved.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('')
			);
		} finally {
			await faulty.close(1000);
		}
	});

	describe('an ending answer is saved by the next periodic flush', () => {
		/**
		 * A replica that flushes every 300 ms, and a student of its own (whose budget no other
		 * test's answers hold: their reservations are settled only when their ends are saved).
		 */
		const slowFlush = async (run: (replica: TutorEngine, userId: string) => Promise<void>) => {
			const [student] = await t.database.db
				.insert(schema.users)
				.values({
					email: `flush-${crypto.randomUUID()}@example.com`,
					displayName: 'F',
					passwordHash: 'x'
				})
				.returning();
			const replica = new TutorEngine({
				database: t.database,
				config: { ...config, tutor: { ...config.tutor, flushMs: 300 } },
				provider: createMockProvider({ tokenDelayMs: 5, tokenCount: 30 })
			});
			await replica.start();
			try {
				await run(replica, student!.id);
			} finally {
				await replica.close(1000);
			}
		};

		it('answers ending one after another do not each flush (a log row per answer per flush)', () =>
			slowFlush(async (replica, userId) => {
				// Eight answers of 150 ms, started 20 ms apart: each is running while the others
				// end. Were every end a flush of its own, each answer would be logged in about ten
				// rows; the periodic flush writes it in one or two, after the send's two.
				const ids: string[] = [];
				for (let i = 0; i < 8; i++) {
					const c = await convos.create(t.database.db, userId);
					ids.push(c.id);
					expect(
						await replica.send(
							userId,
							c.id,
							crypto.randomUUID(),
							`Question ${i} ${crypto.randomUUID()}`
						)
					).toEqual({
						ok: true
					});
					await new Promise((r) => setTimeout(r, 20));
				}
				for (const id of ids) await until(idle(id, userId));
				const counts = await t.database.db
					.select({ n: sql<number>`count(*)::int` })
					.from(schema.conversationEvents)
					.where(sql`${schema.conversationEvents.conversationId} in ${ids}`)
					.groupBy(schema.conversationEvents.conversationId);
				const rows = counts.reduce((sum, r) => sum + Number(r.n), 0) / ids.length;
				// (Under a loaded machine answers last longer and some see one more flush.)
				expect(rows).toBeLessThanOrEqual(6);
				for (const id of ids) expect((await answerOf(id)).status).toBe('complete');
			}));

		it('with many answers streaming, flushes come less often (fewer, larger log rows)', async () => {
			// Five conversations per student: each student's daily budget holds a few answers' worst case.
			const students = await t.database.db
				.insert(schema.users)
				.values(
					Array.from({ length: 24 }, (_, i) => ({
						email: `busy-${i}-${crypto.randomUUID()}@example.com`,
						displayName: 'B',
						passwordHash: 'x'
					}))
				)
				.returning();
			const owner = (i: number) => students[i % students.length]!.id;
			// 120 answers of 400 ms at once on a replica set to flush every 50 ms: with that load the
			// interval stretches to about 170 ms (250 ms at 200 answers).
			const replica = new TutorEngine({
				database: t.database,
				config: { ...config, tutor: { ...config.tutor, flushMs: 50 } },
				provider: createMockProvider({ tokenDelayMs: 10, tokenCount: 40 })
			});
			await replica.start();
			try {
				const ids = await Promise.all(
					Array.from(
						{ length: 120 },
						async (_, i) => (await convos.create(t.database.db, owner(i))).id
					)
				);
				const sent = await Promise.all(
					ids.map((id, i) =>
						replica.send(owner(i), id, crypto.randomUUID(), `Busy ${i} ${crypto.randomUUID()}`)
					)
				);
				expect(sent.every((r) => r.ok)).toBe(true);
				for (const [i, id] of ids.entries()) await until(idle(id, owner(i)), 20_000);
				const [row] = await t.database.db
					.select({ n: sql<number>`count(*)::int` })
					.from(schema.conversationEvents)
					.where(sql`${schema.conversationEvents.conversationId} in ${ids}`);
				// The send's two rows, then a row per flush while the answer streams: 6 to 7 here with
				// the stretched interval (10 seen with another test run sharing the machine); 12 to 13
				// when it stays at 50 ms.
				expect(Number(row!.n) / ids.length).toBeLessThanOrEqual(11);
				for (const id of ids) {
					const answer = await answerOf(id);
					expect([answer.status, answer.errorKind]).toEqual(['complete', null]);
					expect(answer.content.split('Token').length - 1).toBe(40);
				}
			} finally {
				await replica.close(1000);
			}
		}, 60_000);

		it('a question sent right after the end saves it first: accepted, with the whole answer as history', () =>
			slowFlush(async (replica, userId) => {
				const c = await convos.create(t.database.db, userId);
				const socket = new FakeSocket();
				await replica.subscribe(socket, userId, c.id, undefined);
				await replica.send(userId, c.id, crypto.randomUUID(), `First ${crypto.randomUUID()}`);
				await until(() => socket.events(c.id).some((e) => e.type === 'done'), 5000);
				const first = socket.events(c.id).find((e) => e.type === 'start')!;
				// Not saved yet: the next periodic flush is up to 300 ms away.
				expect(
					await replica.send(userId, c.id, crypto.randomUUID(), `Second ${crypto.randomUUID()}`)
				).toEqual({
					ok: true
				});
				await until(() => socket.events(c.id).filter((e) => e.type === 'done').length === 2, 5000);
				await until(idle(c.id, userId));
				const history = await convos.history(t.database.db, c.id, 25_000);
				expect(history.map((m) => [m.role, m.status])).toEqual([
					['user', 'complete'],
					['assistant', 'complete'],
					['user', 'complete'],
					['assistant', 'complete']
				]);
				expect(history[1]!.id).toBe((first as { messageId: string }).messageId);
				expect(history[1]!.content).toBe(socket.text(c.id, history[1]!.id));
				expect(history[1]!.content).toContain('Token 30');
			}));
	});

	describe('early start (the answer begins beside the send statement)', () => {
		const settled = async (conversationId: string) => {
			await until(async () => {
				const c = await convos.get(t.database.db, userId, conversationId);
				return c?.generationId === null && (await answerOf(conversationId)).status !== 'streaming';
			});
			return answerOf(conversationId);
		};

		/** Another replica with a recording provider, and a conversation it saw when subscribing. */
		const onReplica = async (
			run: (r: { replica: TutorEngine; calls: Call[]; id: string }) => Promise<void>,
			earlyStart = true
		) => {
			const { calls, provider } = capture();
			const replica = new TutorEngine({
				database: t.database,
				config: { ...config, tutor: { ...config.tutor, earlyStart } },
				provider
			});
			await replica.start();
			try {
				const c = await convos.create(t.database.db, userId);
				await replica.subscribe(new FakeSocket(), userId, c.id, undefined);
				await run({ replica, calls, id: c.id });
			} finally {
				await replica.close(1000);
			}
		};

		it('starts from what the replica knows and keeps the call when the database agrees', () =>
			onReplica(async ({ replica, calls, id }) => {
				await replica.send(userId, id, crypto.randomUUID(), 'What is a list?');
				expect((await settled(id)).content).toBe('answer 1');
				// The follow-up starts from the end of the first answer, which this replica ran.
				await replica.send(userId, id, crypto.randomUUID(), 'And a tuple?');
				expect((await settled(id)).content).toBe('answer 2');
				expect(calls).toHaveLength(2);
				expect(calls.every((call) => !call.signal.aborted)).toBe(true);
				// The prompt is the one the database's history gives: nothing missing, nothing twice.
				const history = await convos.history(t.database.db, id, 25_000);
				expect(calls[1]!.messages.slice(0, -1)).toEqual(
					history.slice(0, 2).map((m) => ({ role: m.role, content: m.content }))
				);
				expect(calls[1]!.messages.at(-1)!.content).toContain('And a tuple?');
			}));

		it('cancels the call and starts again when the conversation changed elsewhere', () =>
			onReplica(async ({ replica, calls, id }) => {
				// Another replica answers a question this one never saw.
				await engine.send(userId, id, crypto.randomUUID(), 'Asked on the other replica');
				await settled(id);
				await replica.send(userId, id, crypto.randomUUID(), 'Asked here');
				expect((await settled(id)).content).toBe('answer 2');
				expect(calls).toHaveLength(2);
				expect(calls[0]!.signal.aborted).toBe(true);
				expect(calls[0]!.messages).toHaveLength(1); // the stale guess: no history
				expect(calls[1]!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
				expect(calls[1]!.messages[0]!.content).toBe('Asked on the other replica');
			}));

		it('cancels the call when the question is refused (a resent message)', () =>
			onReplica(async ({ replica, calls, id }) => {
				const clientId = crypto.randomUUID();
				await replica.send(userId, id, clientId, 'Once');
				await settled(id);
				expect(await replica.send(userId, id, clientId, 'Once')).toEqual({ ok: true });
				await until(() => calls.length === 2 && calls[1]!.signal.aborted);
				const rows = await convos.history(t.database.db, id, 25_000);
				expect(rows.map((m) => m.content)).toEqual(['Once', 'answer 1']);
			}));

		it('reads the student’s level when they open a conversation, before their first question', async () => {
			const [student] = await t.database.db
				.insert(schema.users)
				.values({ email: 'level-ahead@example.com', displayName: 'L', passwordHash: 'x' })
				.returning();
			const { calls, provider } = capture();
			const replica = new TutorEngine({ database: t.database, config, provider });
			await replica.start();
			try {
				const c = await convos.create(t.database.db, student!.id);
				await replica.subscribe(new FakeSocket(), student!.id, c.id, undefined);
				await new Promise((r) => setTimeout(r, 200)); // the level (none) is read by now
				await t.database.db
					.insert(schema.skillLevels)
					.values({ userId: student!.id, area: 'fundamentals', level: 'advanced' });
				await replica.send(student!.id, c.id, crypto.randomUUID(), `Level ${crypto.randomUUID()}`);
				await until(async () => (await answerOf(c.id)).status === 'complete');
				// The early start used the level read at subscribe time (none), so the send
				// statement's reading cancelled it; read at send time, it would have been kept.
				expect(calls).toHaveLength(2);
				expect(calls[0]!.signal.aborted).toBe(true);
				expect(calls[0]!.system).not.toContain('Student level');
				expect(calls[1]!.system).toContain('Student level: advanced.');
			} finally {
				await replica.close(1000);
			}
		});

		it('does not start early when turned off', () =>
			onReplica(async ({ replica, calls, id }) => {
				await engine.send(userId, id, crypto.randomUUID(), 'Elsewhere');
				await settled(id);
				await replica.send(userId, id, crypto.randomUUID(), 'Here');
				await settled(id);
				expect(calls).toHaveLength(1);
				expect(calls[0]!.signal.aborted).toBe(false);
			}, false));
	});
});

interface Call {
	system: string;
	messages: ChatMessage[];
	signal: AbortSignal;
}

/** A provider that records every call (prompt and signal) and answers `answer <n>`. */
function capture() {
	const calls: Call[] = [];
	const provider: Provider = {
		name: 'mock',
		model: 'capture',
		async *stream(request) {
			calls.push({ system: request.system, messages: request.messages, signal: request.signal });
			const n = calls.length;
			await new Promise((r) => setTimeout(r, 30));
			if (request.signal.aborted) throw new ProviderError('aborted', 'aborted');
			yield { type: 'text', text: `answer ${n}` };
			yield { type: 'done' };
		}
	};
	return { calls, provider };
}
