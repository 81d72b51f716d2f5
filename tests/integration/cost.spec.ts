/**
 * AI cost control through the real engine, on each database driver, with the mock provider (priced
 * like Claude Sonnet, its cheaper model like Haiku): the usage log, budgets that refuse the call
 * that would cross them and alert once (by email and webhook), the response cache and its privacy
 * rules, cheaper-model routing and prompt caching.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { and, eq } from 'drizzle-orm';
import { createMockProvider } from '../../src/lib/server/ai/mock.ts';
import { openDatabase, schema } from '../../src/lib/server/db/index.ts';
import * as cache from '../../src/lib/server/cost/cache.ts';
import { CostControl, type TurnOutcome, type TurnPlan } from '../../src/lib/server/cost/control.ts';
import { GLOBAL, reserve } from '../../src/lib/server/cost/budgets.ts';
import {
	defaults,
	getCostSettings,
	updateCostSettings
} from '../../src/lib/server/cost/settings.ts';
import * as convos from '../../src/lib/server/tutor/conversations.ts';
import { TutorEngine } from '../../src/lib/server/tutor/engine.ts';
import { createOfflineProvider, FALLBACK_LABEL } from '../../src/lib/server/tutor/offline.ts';
import type { LogEvent, ServerMessage } from '../../src/lib/ws/protocol.ts';
import { testConfig } from '../helpers/config.ts';
import { drivers, openTestDatabase, type TestDatabase } from '../helpers/db.ts';

class FakeSocket {
	messages: ServerMessage[] = [];
	send(message: ServerMessage) {
		this.messages.push(message);
	}
	bufferedAmount() {
		return 0;
	}
	events(conversationId: string): LogEvent[] {
		return this.messages.flatMap((m) =>
			m.type === 'event' && m.conversationId === conversationId ? [m.event] : []
		);
	}
	text(conversationId: string) {
		return this.events(conversationId)
			.map((e) => (e.type === 'delta' ? e.text : ''))
			.join('');
	}
}

const until = async (check: () => boolean | Promise<boolean>, ms = 10_000) => {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error('timed out waiting');
		await new Promise((r) => setTimeout(r, 10));
	}
};

/** Collects budget alerts sent to a webhook and by SMTP. */
async function startAlertSinks() {
	const hooks: Record<string, unknown>[] = [];
	const mails: string[] = [];
	const web: Server = createServer((req, res) => {
		let body = '';
		req.on('data', (c) => (body += c));
		req.on('end', () => {
			hooks.push(JSON.parse(body));
			res.writeHead(204).end();
		});
	});
	await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
	const smtp = new SMTPServer({
		authOptional: true,
		disabledCommands: ['STARTTLS', 'AUTH'],
		onData(stream, _session, done) {
			let data = '';
			stream.on('data', (c: Buffer) => (data += c.toString()));
			stream.on('end', () => {
				mails.push(data);
				done();
			});
		}
	});
	await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
	return {
		hooks,
		mails,
		webhookUrl: `http://127.0.0.1:${(web.address() as AddressInfo).port}/alerts`,
		smtpPort: (smtp.server.address() as AddressInfo).port,
		close: async () => {
			web.close();
			await new Promise<void>((r) => smtp.close(() => r()));
		}
	};
}

describe.each(drivers)('AI cost control on %s', (driver) => {
	let t: TestDatabase;
	let engine: TutorEngine;
	let sinks: Awaited<ReturnType<typeof startAlertSinks>>;
	let config: ReturnType<typeof testConfig>;
	const ids: string[] = [];
	const db = () => t.database.db;

	beforeAll(async () => {
		t = await openTestDatabase(driver);
		sinks = await startAlertSinks();
		config = testConfig({
			LLM_PROVIDER: 'mock',
			TUTOR_FLUSH_MS: '40',
			TUTOR_RATE_LIMIT: '1000',
			// A large output allowance makes each call's worst case 0.15 $ (10 000 tokens at 15 $/M).
			LLM_MAX_OUTPUT_TOKENS: '10000',
			ALERT_WEBHOOK_URL: sinks.webhookUrl,
			SMTP_HOST: '127.0.0.1',
			SMTP_PORT: String(sinks.smtpPort),
			FROM_EMAIL: 'tutor@example.com',
			ALERT_EMAIL: 'ops@example.com'
		});
		const rows = await db()
			.insert(schema.users)
			.values(
				['a', 'b', 'c', 'd'].map((n) => ({
					email: `${n}@example.com`,
					displayName: n,
					passwordHash: 'x'
				}))
			)
			.returning();
		ids.push(...rows.map((r) => r.id));
		const search = async () => [];
		engine = new TutorEngine({
			database: t.database,
			config,
			provider: createMockProvider({ tokenDelayMs: 10, tokenCount: 30 }),
			fallback: createOfflineProvider(search, { chunkDelayMs: 0, label: FALLBACK_LABEL })
		});
		await engine.start();
	});
	afterAll(async () => {
		await engine?.close(1000);
		await sinks?.close();
		await t?.drop();
	});
	beforeEach(async () => {
		// Each test starts from a clean day, with the budgets off unless it sets them.
		await db().delete(schema.spendDaily);
		await db().delete(schema.budgetAlerts);
		await db().delete(schema.llmUsage);
		await db().delete(schema.usageDaily);
		await db().delete(schema.usageUserDaily);
		await db().delete(schema.responseCache);
		sinks.hooks.length = 0;
		sinks.mails.length = 0;
		await updateCostSettings(
			db(),
			{ userDailyUsd: 0, globalDailyUsd: 0, routingEnabled: false, cacheEnabled: true },
			null,
			config.cost
		);
	});

	/** Opens a conversation for `userId`, asks `text`, waits for the end; returns what was seen. */
	async function ask(userId: string, text: string, context?: Record<string, unknown>) {
		const c = await convos.create(db(), userId);
		if (context)
			await db()
				.update(schema.conversations)
				.set({ context })
				.where(eq(schema.conversations.id, c.id));
		const socket = new FakeSocket();
		await engine.subscribe(socket, userId, c.id, undefined);
		expect(await engine.send(userId, c.id, crypto.randomUUID(), text)).toEqual({ ok: true });
		await until(() =>
			socket.events(c.id).some((e) => ['done', 'error', 'stopped'].includes(e.type))
		);
		await until(async () => (await usageOf(c.id)).length > 0);
		return { conversationId: c.id, socket, text: socket.text(c.id), events: socket.events(c.id) };
	}
	const usageOf = (conversationId: string) =>
		db().select().from(schema.llmUsage).where(eq(schema.llmUsage.conversationId, conversationId));

	it('reads the settings once for all the callers that come while a read is under way', async () => {
		// A view of the same database with its own memo (the memo is kept per database object).
		const view = Object.create(db()) as ReturnType<typeof db>;
		const read = await Promise.all(
			Array.from({ length: 20 }, () => getCostSettings(view, { base: config.cost }))
		);
		expect(new Set(read).size).toBe(1);
		expect(read[0]).toEqual(await getCostSettings(db(), { fresh: true, base: config.cost }));
	});

	it('logs every call with tokens, cost from the price table, latency and outcome', async () => {
		const { conversationId } = await ask(ids[0]!, 'How do loops work? [mock:tokens:40]');
		const [row] = await usageOf(conversationId);
		expect(row).toMatchObject({
			userId: ids[0],
			provider: 'mock',
			model: 'mock-tutor',
			source: 'provider',
			outcome: 'complete',
			outputTokens: 40
		});
		expect(row!.inputTokens).toBeGreaterThan(100);
		// mock-tutor is priced like Claude Sonnet: 3 $ in, 15 $ out per million tokens.
		expect(row!.costUsd).toBeCloseTo((row!.inputTokens * 3 + 40 * 15) / 1e6, 9);
		expect(row!.latencyMs).toBeGreaterThan(0);
		expect(row!.firstTokenMs).toBeGreaterThan(0);
		expect(row!.firstTokenMs!).toBeLessThanOrEqual(row!.latencyMs!);
	});

	it('settles each answer’s reservation with its real cost, on the student’s and the server’s rows', async () => {
		await updateCostSettings(db(), { userDailyUsd: 100, globalDailyUsd: 1000 }, null, config.cost);
		const results = await Promise.all(
			Array.from({ length: 6 }, (_, i) => ask(ids[3]!, `Batch question ${i} [mock:tokens:20]`))
		);
		const rows = (await Promise.all(results.map((r) => usageOf(r.conversationId)))).flat();
		expect(rows).toHaveLength(6);
		expect(rows.every((r) => r.outcome === 'complete' && r.outputTokens === 20)).toBe(true);
		// Each reservation's worst case was replaced by the real cost, on both rows.
		const spend = await db().select().from(schema.spendDaily);
		const paid = rows.reduce((n, r) => n + r.costUsd, 0);
		for (const subject of [ids[3], GLOBAL]) {
			const row = spend.find((r) => r.subject === subject);
			expect(row!.calls).toBe(6);
			expect(row!.usd).toBeCloseTo(paid, 9);
		}
	});

	it('a usage row the database refuses is logged and costs only itself', async () => {
		const mock = createMockProvider({ tokenDelayMs: 0, tokenCount: 1 });
		const cost = new CostControl({ db, config, provider: mock });
		const price = {
			inputPerMTok: 3,
			outputPerMTok: 15,
			cachedInputPerMTok: 0.3,
			cacheWritePerMTok: 3
		};
		const plan = (question: string): TurnPlan => ({
			userId: ids[0]!,
			kind: 'provider',
			provider: mock,
			model: 'mock-tutor',
			routed: false,
			notice: null,
			cached: null,
			cacheKey: null,
			eligible: false,
			reservation: null,
			price,
			basePrice: price,
			lessonId: null,
			question,
			follow: null,
			lead: null,
			promptChars: 400,
			startedAt: Date.now()
		});
		const good = await convos.create(db(), ids[0]!);
		const outcome = (conversationId: string): TurnOutcome => ({
			conversationId,
			messageId: crypto.randomUUID(),
			outcome: 'complete',
			usage: { inputTokens: 100, outputTokens: 10 },
			text: 'An answer.',
			firstTokenAt: Date.now()
		});
		// The second names a conversation that does not exist (a foreign key): record never throws.
		await Promise.all([
			cost.record(plan('one'), outcome(good.id)),
			cost.record(plan('two'), outcome(crypto.randomUUID())),
			cost.record(plan('three'), outcome(good.id))
		]);
		expect(await usageOf(good.id)).toHaveLength(2);
		expect(await db().select().from(schema.llmUsage)).toHaveLength(2);
	});

	it('refuses the call that would cross a student’s budget, falls back to the offline tutor and alerts once', async () => {
		// A question reserves its worst case before its prompt is known: the largest prompt (6000
		// history + 6000 other tokens at 3 $/M) and 10 000 output tokens at 15 $/M, 0.186 $. Two fit
		// in 0.40 $, the third would cross it.
		await updateCostSettings(db(), { userDailyUsd: 0.4, warnPercent: 80 }, null, config.cost);
		const results = await Promise.all(
			// Five different questions: the same one asked together is paid once (tested below).
			Array.from({ length: 5 }, (_, i) => ask(ids[1]!, `Tell me about lists ${i} [mock:tokens:30]`))
		);
		const answered = results.filter((r) => r.text.startsWith('Mock answer'));
		const fallback = results.filter((r) => r.text.startsWith(FALLBACK_LABEL));
		expect(answered).toHaveLength(2);
		expect(fallback).toHaveLength(3);
		for (const r of fallback)
			expect(r.events).toContainEqual(
				expect.objectContaining({ type: 'notice', notice: 'budget_user' })
			);
		// The saved message keeps the notice for a reload.
		const [saved] = await db()
			.select()
			.from(schema.messages)
			.where(
				and(
					eq(schema.messages.conversationId, fallback[0]!.conversationId),
					eq(schema.messages.role, 'assistant')
				)
			);
		expect(saved?.notice).toBe('budget_user');
		expect(saved?.model).toBe('course-search');

		// Once the answers are settled at their real cost (far below the worst case), there is room
		// again: the next question goes to the model.
		const later = await ask(ids[1]!, 'And dictionaries?');
		expect(later.text).toMatch(/^Mock answer/);
		// Three refusals, one alert per threshold.
		await until(() => sinks.hooks.filter((h) => h.threshold === 'limit').length >= 1);
		await new Promise((r) => setTimeout(r, 300));
		const alerts = await db().select().from(schema.budgetAlerts);
		expect(alerts.filter((a) => a.threshold === 'limit')).toHaveLength(1);
		expect(sinks.hooks.filter((h) => h.threshold === 'limit')).toHaveLength(1);
		expect(sinks.hooks.filter((h) => h.threshold === 'warning')).toHaveLength(1);
		await until(() => sinks.mails.length >= 2);
		expect(sinks.mails.some((m) => /AI budget reached/.test(m) && /ops@example.com/.test(m))).toBe(
			true
		);
		const limit = alerts.find((a) => a.threshold === 'limit')!;
		expect(limit).toMatchObject({ subject: ids[1], limitUsd: 0.4 });
		await until(async () => {
			const [row] = await db()
				.select()
				.from(schema.budgetAlerts)
				.where(eq(schema.budgetAlerts.id, limit.id));
			return (row?.delivery.length ?? 0) === 2;
		});

		// The ledger holds the real cost of the two answered calls, not their estimates.
		const usage = await db()
			.select()
			.from(schema.llmUsage)
			.where(eq(schema.llmUsage.userId, ids[1]!));
		const paid = usage.filter((u) => u.source === 'provider');
		expect(paid).toHaveLength(3);
		const [ledger] = await db()
			.select()
			.from(schema.spendDaily)
			.where(eq(schema.spendDaily.subject, ids[1]!));
		expect(ledger!.usd).toBeCloseTo(
			paid.reduce((n, u) => n + u.costUsd, 0),
			9
		);
		expect(usage.filter((u) => u.source === 'offline').every((u) => u.costUsd === 0)).toBe(true);
	});

	it('holds the global budget across students and warns near a student’s limit', async () => {
		await updateCostSettings(
			db(),
			{ userDailyUsd: 10, globalDailyUsd: 0.4, warnPercent: 1 },
			null,
			config.cost
		);
		const results = await Promise.all(
			[ids[0]!, ids[2]!, ids[3]!].map((id, i) => ask(id, `What is tuple ${i}? [mock:tokens:30]`))
		);
		expect(results.filter((r) => r.text.startsWith('Mock answer'))).toHaveLength(2);
		const refused = results.filter((r) => r.text.startsWith(FALLBACK_LABEL));
		expect(refused).toHaveLength(1);
		expect(refused[0]!.events).toContainEqual(
			expect.objectContaining({ type: 'notice', notice: 'budget_global' })
		);
		// Above 1 % of their own limit, each answered student was warned with the answer.
		for (const r of results.filter((x) => x.text.startsWith('Mock answer')))
			expect(r.events).toContainEqual(
				expect.objectContaining({ type: 'notice', notice: 'budget_warning' })
			);
		await until(async () =>
			(await db().select().from(schema.budgetAlerts)).some(
				(a) => a.subject === 'global' && a.threshold === 'limit'
			)
		);
	});

	it('reserves nothing for a question that is refused (busy, duplicate)', async () => {
		await updateCostSettings(db(), { userDailyUsd: 10, globalDailyUsd: 100 }, null, config.cost);
		const c = await convos.create(db(), ids[3]!);
		const socket = new FakeSocket();
		await engine.subscribe(socket, ids[3]!, c.id, undefined);
		const clientId = crypto.randomUUID();
		expect(await engine.send(ids[3]!, c.id, clientId, 'Explain loops 7')).toEqual({ ok: true });
		expect(await engine.send(ids[3]!, c.id, crypto.randomUUID(), 'And again')).toMatchObject({
			code: 'busy'
		});
		expect(await engine.send(ids[3]!, c.id, clientId, 'Explain loops 7')).toEqual({ ok: true });
		await until(async () => (await usageOf(c.id)).length > 0);
		const rows = await db().select().from(schema.spendDaily);
		expect(rows.find((r) => r.subject === ids[3])).toMatchObject({ calls: 1 });
		expect(rows.find((r) => r.subject === 'global')).toMatchObject({ calls: 1 });
	});

	it('two replicas racing for the last cents of the server’s budget: none crosses it', async () => {
		await db().delete(schema.spendDaily);
		// A 1 $ limit and 0.015 $ questions: exactly 66 fit.
		const settings = { ...defaults(config.cost), userDailyUsd: 100, globalDailyUsd: 1 };
		// A second pool on the same database (PostgreSQL), as another replica has.
		const other = t.url ? await openDatabase({ url: t.url, poolMax: 5 }) : null;
		const pools = [db(), other?.db ?? db()];
		let admitted = 0;
		for (let round = 0; round < 50; round++) {
			const results = await Promise.all(
				pools.flatMap((pool, r) =>
					[0, 1].map((k) =>
						reserve(pool, {
							userId: ids[(r * 2 + k) % 4]!,
							estimateUsd: 0.015,
							settings,
							alerts: config.alerts
						})
					)
				)
			);
			admitted += results.filter((x) => x.ok).length;
		}
		await other?.close();
		const server = (await db().select().from(schema.spendDaily)).find((r) => r.subject === GLOBAL);
		expect(admitted).toBe(66);
		expect(server!.usd).toBeCloseTo(0.99, 9);
		expect(server!.calls).toBe(66);
		const students = (await db().select().from(schema.spendDaily)).filter(
			(r) => r.subject !== GLOBAL
		);
		expect(students.reduce((n, r) => n + r.calls, 0)).toBe(66);
	});

	it('serves a repeated question from the cache to another student, with the saving computed', async () => {
		const first = await ask(ids[0]!, 'What is a list?');
		const again = await ask(ids[2]!, '  what is a LIST  ');
		expect(again.text).toBe(first.text);
		const [paid] = await usageOf(first.conversationId);
		const [hit] = await usageOf(again.conversationId);
		expect(paid).toMatchObject({ source: 'provider', cacheEligible: true });
		expect(hit).toMatchObject({ source: 'cache', costUsd: 0, cacheEligible: true, userId: ids[2] });
		expect(hit!.savedUsd).toBeCloseTo(paid!.costUsd, 9);
		expect(hit!.savedTokens).toBe(paid!.inputTokens + paid!.outputTokens);
		const stats = await cache.stats(db());
		expect(stats).toMatchObject({ hits: 1, turns: 2, eligibleTurns: 2, entries: 1 });
		expect(stats.hitRate).toBeCloseTo(0.5);
		expect(stats.dollarsSaved).toBeCloseTo(paid!.costUsd, 9);
		// A cached answer is not billed to the student's budget either.
		expect(
			(await db().select().from(schema.spendDaily)).find((r) => r.subject === ids[2])
		).toBeUndefined();
	});

	it('pays once for the same question asked by several students at the same moment', async () => {
		const [a, b, c] = await Promise.all([
			ask(ids[0]!, 'What is a tuple?'),
			ask(ids[2]!, 'what is a tuple'),
			ask(ids[3]!, 'What is a tuple?!')
		]);
		expect(b.text).toBe(a.text);
		expect(c.text).toBe(a.text);
		const rows = (
			await Promise.all([a, b, c].map(({ conversationId }) => usageOf(conversationId)))
		).flat();
		expect(rows.map((r) => r.source).sort()).toEqual(['cache', 'cache', 'provider']);
		const paid = rows.find((r) => r.source === 'provider')!;
		for (const hit of rows.filter((r) => r.source === 'cache'))
			expect(hit.savedUsd).toBeCloseTo(paid.costUsd, 9);
		/** Two students (first, then second) send the same question, each in a new conversation. */
		const askTogether = async (question: string) => {
			const asked = [];
			for (const id of [ids[0]!, ids[2]!]) {
				const c = await convos.create(db(), id);
				const socket = new FakeSocket();
				await engine.subscribe(socket, id, c.id, undefined);
				asked.push({ id, c, socket });
			}
			for (const { id, c } of asked) await engine.send(id, c.id, crypto.randomUUID(), question);
			const [first, second] = asked;
			return [
				[first!.c, first!.socket],
				[second!.c, second!.socket]
			] as const;
		};
		// The others stream the first answer as it comes, not after it ends.
		const [[d, sd], [e, se]] = await askTogether('What is a range?');
		await until(() => se.text(e!.id).length > 0);
		expect(sd.events(d!.id).some((ev) => ev.type === 'done')).toBe(false);
		// The first asker stops: the follower keeps what it was shown and goes on on its own.
		expect(await engine.stop(ids[0]!, d!.id)).toEqual({ ok: true });
		const shown = sd.text(d!.id);
		await until(async () => (await usageOf(e!.id)).length > 0);
		expect((await usageOf(d!.id))[0]).toMatchObject({ source: 'provider', outcome: 'stopped' });
		expect((await usageOf(e!.id))[0]).toMatchObject({ source: 'provider', outcome: 'complete' });
		const followed = se.text(e!.id);
		expect(followed.startsWith(shown)).toBe(true);
		expect(followed.slice(shown.length)).toContain(
			'Mock answer to "(Continue your previous answer'
		);
		expect(se.events(e!.id).at(-1)).toMatchObject({ type: 'done' });

		// Following can be stopped; the first answer goes on.
		const [[g, sg], [h, sh]] = await askTogether('What is a slice?');
		// (The first answer starts beside the send statement, so a token may already be shown.)
		expect(sh.events(h!.id).some((ev) => ev.type === 'done')).toBe(false);
		expect(await engine.stop(ids[2]!, h!.id)).toEqual({ ok: true });
		await until(async () => (await usageOf(g!.id)).length > 0);
		expect((await usageOf(h!.id))[0]).toMatchObject({ outcome: 'stopped', costUsd: 0 });
		expect((await usageOf(g!.id))[0]).toMatchObject({ source: 'provider', outcome: 'complete' });
		expect(sg.text(g!.id)).toMatch(/Token 30 $/);
	});

	it('never serves or stores personal context: own code, errors, other conversations', async () => {
		const lessonContext = (code: string) => ({ code, lastError: undefined });
		// A question with the student's own code is answered by the provider and not stored.
		const mine = await ask(
			ids[0]!,
			'What is a loop?',
			lessonContext('secret_a = 41\nprint(secret_a)')
		);
		expect((await usageOf(mine.conversationId))[0]).toMatchObject({
			source: 'provider',
			cacheEligible: false
		});
		expect(await db().select().from(schema.responseCache)).toHaveLength(0);
		// Another student asking the same words with other code gets a fresh answer.
		const theirs = await ask(ids[2]!, 'What is a loop?', lessonContext('print("b")'));
		expect((await usageOf(theirs.conversationId))[0]).toMatchObject({ source: 'provider' });
		// An error message is personal too.
		const failing = await ask(ids[2]!, 'What is a loop?', { lastError: 'NameError: secret_b' });
		expect((await usageOf(failing.conversationId))[0]).toMatchObject({ cacheEligible: false });
		expect(await db().select().from(schema.responseCache)).toHaveLength(0);

		// A follow-up is keyed on the whole conversation: only an identical conversation finds it.
		const follow = async (userId: string, first: string, next: string) => {
			const c = await ask(userId, first);
			const socket = new FakeSocket();
			await engine.subscribe(socket, userId, c.conversationId, undefined);
			await engine.send(userId, c.conversationId, crypto.randomUUID(), next);
			await until(async () => (await usageOf(c.conversationId)).length === 2);
			return (await usageOf(c.conversationId)).sort((x, y) => +x.createdAt - +y.createdAt);
		};
		const a = await follow(ids[0]!, 'What is a set?', 'Can you give another example?');
		expect(a.map((r) => r.source)).toEqual(['provider', 'provider']);
		const b = await follow(ids[2]!, 'what is a SET', 'Can you give another example');
		expect(b.map((r) => r.source)).toEqual(['cache', 'cache']);
		const c = await follow(ids[3]!, 'What is a frozenset?', 'Can you give another example?');
		expect(c.map((r) => r.source)).toEqual(['provider', 'provider']);
		// A conversation that carried the student's own code never reaches the cache again.
		const own = await ask(ids[0]!, 'What is a set?', lessonContext('s = {1, 2}'));
		const socket = new FakeSocket();
		await engine.subscribe(socket, ids[0]!, own.conversationId, undefined);
		await engine.send(
			ids[0]!,
			own.conversationId,
			crypto.randomUUID(),
			'Can you give another example?'
		);
		await until(async () => (await usageOf(own.conversationId)).length === 2);
		expect((await usageOf(own.conversationId)).every((r) => !r.cacheEligible)).toBe(true);

		// Keys carry no identity: the same question from two students maps to one key.
		expect(
			cache.cacheKey({ model: 'm', systemBlocks: ['s'], notes: '', question: 'What is a set?' })
		).toBe(
			cache.cacheKey({ model: 'm', systemBlocks: ['s'], notes: '', question: 'what is a set' })
		);
	});

	it('drops a lesson’s cached answers when the lesson changes', async () => {
		const [mod] = await db()
			.insert(schema.modules)
			.values({ slug: `m-${driver}`, title: 'M', position: 1, status: 'published' })
			.returning();
		const [lesson] = await db()
			.insert(schema.lessons)
			.values({
				moduleId: mod!.id,
				slug: 'l',
				title: 'Loops',
				body: '# Loops\nA loop repeats.',
				position: 1,
				status: 'published'
			})
			.returning();
		await ask(ids[0]!, 'What is iteration?', { lessonId: lesson!.id });
		const [entry] = await db().select().from(schema.responseCache);
		expect(entry?.lessonId).toBe(lesson!.id);
		const { indexLesson } = await import('../../src/lib/server/learn/content.ts');
		await indexLesson(db(), { id: lesson!.id, title: 'Loops', body: '# Loops\nChanged.' });
		expect(await db().select().from(schema.responseCache)).toHaveLength(0);
	});

	it('routes simple questions to the cheaper model and the rest to the main one', async () => {
		await updateCostSettings(
			db(),
			{ routingEnabled: true, cacheEnabled: false },
			null,
			config.cost
		);
		const simple = await ask(ids[0]!, 'What is a dictionary?');
		const debugging = await ask(ids[0]!, 'Why does my loop give an error?');
		const code = await ask(ids[0]!, 'Is `for i in range(3): print(i)` right?');
		const [s] = await usageOf(simple.conversationId);
		const [d] = await usageOf(debugging.conversationId);
		const [c] = await usageOf(code.conversationId);
		expect(s).toMatchObject({ model: 'mock-tutor-mini', routed: true });
		expect(d).toMatchObject({ model: 'mock-tutor', routed: false });
		expect(c).toMatchObject({ model: 'mock-tutor', routed: false });
		// Haiku-priced: a third of the main model's price, and the difference is the saving.
		expect(s!.costUsd).toBeCloseTo((s!.inputTokens * 1 + s!.outputTokens * 5) / 1e6, 9);
		expect(s!.savedUsd).toBeCloseTo(2 * s!.costUsd, 9);
		await updateCostSettings(db(), { routingEnabled: false }, null, config.cost);
		const off = await ask(ids[0]!, 'What is a dictionary?');
		expect((await usageOf(off.conversationId))[0]).toMatchObject({ model: 'mock-tutor' });
	});

	it('reads the conversation so far from the prompt cache on the next question', async () => {
		await updateCostSettings(db(), { cacheEnabled: false }, null, config.cost);
		const c = await convos.create(db(), ids[3]!);
		const socket = new FakeSocket();
		await engine.subscribe(socket, ids[3]!, c.id, undefined);
		for (const [i, q] of [
			'Explain loops [mock:tokens:700] [mock:delay:1]',
			'More please',
			'And again'
		].entries()) {
			await engine.send(ids[3]!, c.id, `prompt-cache-${i}`, q);
			await until(async () => (await usageOf(c.id)).length === i + 1);
			await until(async () => (await convos.get(db(), ids[3]!, c.id))?.generationId === null);
		}
		const rows = (await usageOf(c.id)).sort((a, b) => +a.createdAt - +b.createdAt);
		expect(rows[0]).toMatchObject({ cachedInputTokens: 0, cacheWriteTokens: 0 });
		expect(rows[1]!.cacheWriteTokens).toBeGreaterThan(1000);
		expect(rows[2]!.cachedInputTokens).toBeGreaterThanOrEqual(rows[1]!.cacheWriteTokens);
		// Cached input is billed at a tenth of the input price.
		const r = rows[2]!;
		const plain = r.inputTokens - r.cachedInputTokens - r.cacheWriteTokens;
		expect(r.costUsd).toBeCloseTo(
			(plain * 3 + r.cachedInputTokens * 0.3 + r.cacheWriteTokens * 3.75 + r.outputTokens * 15) /
				1e6,
			9
		);
		expect(r.savedUsd).toBeGreaterThan(0);
	});
	it('under a burst every answered turn has one usage row, and its cost reaches the ledger', async () => {
		await updateCostSettings(
			db(),
			{ cacheEnabled: true, routingEnabled: true, userDailyUsd: 100 },
			null,
			config.cost
		);
		const [mod] = await db()
			.insert(schema.modules)
			.values({ slug: `burst-${driver}`, title: 'B', position: 9, status: 'published' })
			.returning();
		const [lesson] = await db()
			.insert(schema.lessons)
			.values({
				moduleId: mod!.id,
				slug: 'b',
				title: 'Burst',
				body: '# Burst',
				position: 1,
				status: 'published'
			})
			.returning();
		const students = await db()
			.insert(schema.users)
			.values(
				Array.from({ length: 12 }, (_, i) => ({
					email: `burst-${driver}-${i}@example.com`,
					displayName: `S${i}`,
					passwordHash: 'x'
				}))
			)
			.returning();
		// Three questions per lesson conversation, each sent as soon as the previous answer ended,
		// sent again after a short wait when refused as busy; many students ask the same first one.
		const questions = [
			'What is a loop? [mock:tokens:8]',
			'Another example? [mock:tokens:8]',
			'And why? [mock:tokens:8]'
		];
		const ran = await Promise.all(
			students.map(async (student, n) => {
				const c = await convos.create(db(), student.id);
				await db()
					.update(schema.conversations)
					.set({ context: { lessonId: lesson!.id } })
					.where(eq(schema.conversations.id, c.id));
				const socket = new FakeSocket();
				await engine.subscribe(socket, student.id, c.id, undefined);
				for (const [i, q] of questions.entries()) {
					const ends = () => socket.events(c.id).filter((e) => e.type === 'done').length;
					for (;;) {
						const r = await engine.send(student.id, c.id, `burst-${n}-${i}`, q);
						if (r.ok) break;
						expect(r.code).toBe('busy');
						await new Promise((r) => setTimeout(r, 20));
					}
					await until(() => ends() === i + 1);
				}
				return { conversationId: c.id, userId: student.id };
			})
		);
		await until(async () => {
			const rows = await Promise.all(ran.map((r) => usageOf(r.conversationId)));
			return rows.every((list) => list.length >= 3);
		});
		for (const r of ran) {
			const rows = await usageOf(r.conversationId);
			expect(rows).toHaveLength(3);
			const ledger = (await db().select().from(schema.spendDaily)).find(
				(x) => x.subject === r.userId
			);
			// Served from the cache or the offline tutor costs nothing; the rest is what was paid.
			expect(ledger?.usd ?? 0).toBeCloseTo(
				rows.reduce((n, x) => n + x.costUsd, 0),
				9
			);
		}
		// The reports' rollups hold exactly what the log holds.
		const log = await db().select().from(schema.llmUsage);
		const total = (xs: { calls: number; costUsd: number }[]) => [
			xs.reduce((n, x) => n + x.calls, 0),
			xs.reduce((n, x) => n + x.costUsd, 0)
		];
		const logged = total(log.map((x) => ({ calls: 1, costUsd: x.costUsd })));
		const [daily, perUser] = [
			total(await db().select().from(schema.usageDaily)),
			total(await db().select().from(schema.usageUserDaily))
		];
		for (const rolled of [daily, perUser]) {
			expect(rolled[0]).toBe(logged[0]);
			expect(rolled[1]).toBeCloseTo(logged[1]!, 9);
		}
		const rollup = await db().select().from(schema.usageDaily);
		const sumOf = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
		expect(sumOf(rollup.map((r) => r.eligibleCalls))).toBe(
			log.filter((x) => x.cacheEligible).length
		);
		expect(sumOf(rollup.map((r) => r.savedTokens))).toBe(sumOf(log.map((x) => x.savedTokens)));
	});
});
