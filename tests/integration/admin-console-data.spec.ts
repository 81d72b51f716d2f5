/**
 * The admin console's data modules on each database driver: the usage reports (per day, per model,
 * per user, the headline rates) on rows with known figures, and the account administration (role,
 * disable with session revocation, delete with its cascades, export) including the refusals that
 * keep an admin from locking themself out.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/lib/server/config.ts';
import type { Db } from '../../src/lib/server/db/index.ts';
import {
	answers,
	conversations,
	exams,
	lessonProgress,
	lessons,
	llmUsage,
	messages,
	modules,
	questions,
	rateLimits,
	refreshTokens,
	spendDaily,
	topics,
	users
} from '../../src/lib/server/db/schema.ts';
import * as reports from '../../src/lib/server/cost/reports.ts';
import * as adminUsers from '../../src/lib/server/admin/users.ts';
import * as auditLog from '../../src/lib/server/admin/audit-log.ts';
import { record } from '../../src/lib/server/audit.ts';
import { CONVERSATIONS_PER_READ } from '../../src/lib/server/users/export.ts';
import { drivers, openTestDatabase, type TestDatabase } from '../helpers/db.ts';

const NOW = new Date('2031-03-15T12:00:00Z');
const day = (iso: string) => new Date(iso);

async function addUser(db: Db, email: string, role: 'student' | 'admin' = 'student') {
	const [u] = await db
		.insert(users)
		.values({ email, displayName: email.split('@')[0]!, passwordHash: '$argon2id$secret', role })
		.returning();
	return u!;
}

describe.each(drivers)('admin console data on %s', (driver) => {
	let t: TestDatabase;
	let db: Db;
	let ann: string;
	let bob: string;
	let admin: string;
	const config = { adminEmails: ['root@example.com'] } as Config;

	beforeAll(async () => {
		t = await openTestDatabase(driver);
		db = t.database.db;
		ann = (await addUser(db, 'ann@example.com')).id;
		bob = (await addUser(db, 'bob@example.com')).id;
		admin = (await addUser(db, 'ada@example.com', 'admin')).id;
		const row = (over: Partial<typeof llmUsage.$inferInsert>) => ({
			provider: 'anthropic',
			model: 'claude-sonnet-4-5',
			outcome: 'complete',
			...over
		});
		await db.insert(llmUsage).values([
			// Today: two paid calls by Ann (one routed to the cheap model, one an error), a cache hit
			// for Bob, an offline answer for Bob, one call still streaming.
			row({
				userId: ann,
				costUsd: 0.2,
				latencyMs: 1000,
				firstTokenMs: 300,
				inputTokens: 1000,
				outputTokens: 200,
				createdAt: day('2031-03-15T08:00:00Z')
			}),
			row({
				userId: ann,
				model: 'claude-haiku-4-5',
				routed: true,
				costUsd: 0.05,
				latencyMs: 500,
				firstTokenMs: 100,
				inputTokens: 500,
				outputTokens: 100,
				cachedInputTokens: 400,
				createdAt: day('2031-03-15T09:00:00Z')
			}),
			row({
				userId: ann,
				outcome: 'error',
				costUsd: 0,
				latencyMs: 1500,
				createdAt: day('2031-03-15T09:30:00Z')
			}),
			row({
				userId: bob,
				source: 'cache',
				costUsd: 0,
				savedUsd: 0.12,
				createdAt: day('2031-03-15T10:00:00Z')
			}),
			row({
				userId: bob,
				provider: 'offline',
				model: 'course-search',
				source: 'offline',
				createdAt: day('2031-03-15T10:30:00Z')
			}),
			row({
				userId: bob,
				outcome: 'reserved',
				costUsd: 0.3,
				createdAt: day('2031-03-15T11:59:00Z')
			}),
			// Earlier this month (Bob) and last month (Ann), and one just before today's UTC midnight.
			row({ userId: bob, costUsd: 1.5, latencyMs: 2000, createdAt: day('2031-03-02T00:00:00Z') }),
			row({ userId: ann, costUsd: 4, latencyMs: 2000, createdAt: day('2031-02-20T12:00:00Z') }),
			row({ userId: ann, costUsd: 0.01, latencyMs: 100, createdAt: day('2031-03-14T23:59:59Z') }),
			// Older than 30 days: outside the chart.
			row({ userId: ann, costUsd: 9, createdAt: day('2031-01-01T12:00:00Z') })
		]);
	});
	afterAll(async () => t?.drop());

	it('cost per UTC day for the last 30 days, oldest first, zeros included', async () => {
		const days = await reports.dailyCost(db, { days: 30, now: NOW });
		expect(days).toHaveLength(30);
		expect(days[0]!.day).toBe('2031-02-14');
		expect(days.at(-1)).toEqual({ day: '2031-03-15', costUsd: expect.closeTo(0.55, 9), calls: 6 });
		expect(days.find((d) => d.day === '2031-03-14')).toEqual({
			day: '2031-03-14',
			costUsd: 0.01,
			calls: 1
		});
		expect(days.find((d) => d.day === '2031-02-20')!.costUsd).toBe(4);
		expect(days.find((d) => d.day === '2031-03-01')).toEqual({
			day: '2031-03-01',
			costUsd: 0,
			calls: 0
		});
		const annOnly = await reports.dailyCost(db, { days: 30, now: NOW, userId: ann });
		expect(annOnly.at(-1)).toEqual({ day: '2031-03-15', costUsd: 0.25, calls: 3 });
	});

	it('headline figures today: cache hit rate, routed share, error rate, latency', async () => {
		const s = await reports.summary(db, reports.startOfDay(NOW));
		expect(s).toEqual({
			calls: 6,
			costUsd: expect.closeTo(0.55, 9),
			savedUsd: expect.closeTo(0.12, 9),
			cacheHits: 1,
			// 1 hit among 1 hit + 4 paid calls
			cacheHitRate: 0.2,
			// 1 of 4 paid calls
			routedShare: 0.25,
			// 1 error among 3 finished paid calls
			errorRate: expect.closeTo(1 / 3, 9),
			errors: 1,
			avgLatencyMs: 1000,
			avgFirstTokenMs: 200,
			inFlight: 1
		});
		const empty = await reports.summary(db, new Date('2040-01-01T00:00:00Z'));
		expect(empty).toMatchObject({
			calls: 0,
			costUsd: 0,
			cacheHitRate: null,
			errorRate: null,
			avgLatencyMs: null
		});
	});

	it('by model, costliest first; top users today and this month', async () => {
		const models = await reports.byModel(db, reports.startOfMonth(NOW));
		expect(models.map((m) => m.model)).toEqual([
			'claude-sonnet-4-5',
			'claude-haiku-4-5',
			'course-search'
		]);
		expect(models[0]).toMatchObject({
			provider: 'anthropic',
			calls: 6,
			inputTokens: 1000,
			outputTokens: 200
		});
		expect(models[0]!.costUsd).toBeCloseTo(2.01, 9);
		expect(models[1]).toMatchObject({ calls: 1, cachedInputTokens: 400, costUsd: 0.05 });
		const today = await reports.topUsers(db, reports.startOfDay(NOW), 10);
		expect(today.map((u) => [u.email, u.calls])).toEqual([
			['bob@example.com', 3],
			['ann@example.com', 3]
		]);
		expect(today[0]!.costUsd).toBeCloseTo(0.3, 9);
		const month = await reports.topUsers(db, reports.startOfMonth(NOW), 1);
		expect(month).toEqual([
			{ userId: bob, email: 'bob@example.com', displayName: 'bob', calls: 4, costUsd: 1.8 }
		]);
		const spent = await reports.spendByUser(db, [ann, bob, admin], reports.startOfDay(NOW));
		expect(spent.get(ann)).toBeCloseTo(0.25, 9);
		expect(spent.get(bob)).toBeCloseTo(0.3, 9);
		expect(spent.get(admin)).toBe(0);
	});

	it('refuses to let an admin demote, disable or delete themself, or an ADMIN_EMAIL account', async () => {
		const deps = { db, config };
		expect(await adminUsers.setRole(deps, admin, admin, 'student')).toMatchObject({
			ok: false,
			status: 403
		});
		expect(await adminUsers.setDisabled(deps, admin, admin, true)).toMatchObject({
			ok: false,
			status: 403
		});
		expect(await adminUsers.remove(deps, admin, admin, 'ada@example.com')).toMatchObject({
			ok: false,
			status: 403
		});
		const root = (await addUser(db, 'root@example.com')).id;
		expect(await adminUsers.setRole(deps, admin, root, 'student')).toMatchObject({
			ok: false,
			status: 409
		});
		expect(await adminUsers.setDisabled(deps, admin, root, true)).toMatchObject({
			ok: false,
			status: 409
		});
		expect(await adminUsers.remove(deps, admin, root, 'root@example.com')).toMatchObject({
			ok: false,
			status: 409
		});
		const [self] = await db.select().from(users).where(eq(users.id, admin));
		expect(self).toMatchObject({ role: 'admin', disabledAt: null });
		expect(await adminUsers.get(db, root)).not.toBeNull();
	});

	it('changes a role, and disabling ends every session while enabling does not restore them', async () => {
		const deps = { db, config };
		expect(await adminUsers.setRole(deps, admin, bob, 'admin')).toEqual({
			ok: true,
			email: 'bob@example.com',
			from: 'student',
			changed: true
		});
		expect(await adminUsers.setRole(deps, admin, bob, 'admin')).toMatchObject({
			ok: true,
			changed: false
		});
		expect(await adminUsers.setRole(deps, admin, bob, 'student')).toMatchObject({
			ok: true,
			from: 'admin',
			changed: true
		});
		await db.insert(refreshTokens).values([
			{
				userId: bob,
				familyId: crypto.randomUUID(),
				tokenHash: 'h1',
				expiresAt: day('2099-01-01T00:00:00Z')
			},
			{
				userId: bob,
				familyId: crypto.randomUUID(),
				tokenHash: 'h2',
				expiresAt: day('2099-01-01T00:00:00Z')
			}
		]);
		const [before] = await db.select().from(users).where(eq(users.id, bob));
		expect(await adminUsers.setDisabled(deps, admin, bob, true)).toMatchObject({
			ok: true,
			changed: true
		});
		const [after] = await db.select().from(users).where(eq(users.id, bob));
		expect(after!.disabledAt).toBeInstanceOf(Date);
		expect(after!.tokenVersion).toBe(before!.tokenVersion + 1);
		const tokens = await db.select().from(refreshTokens).where(eq(refreshTokens.userId, bob));
		expect(tokens.map((x) => Boolean(x.revokedAt))).toEqual([true, true]);
		expect(await adminUsers.setDisabled(deps, admin, bob, false)).toMatchObject({
			ok: true,
			changed: true
		});
		const [enabled] = await db.select().from(users).where(eq(users.id, bob));
		expect(enabled!.disabledAt).toBeNull();
		const still = await db.select().from(refreshTokens).where(eq(refreshTokens.userId, bob));
		expect(still.every((x) => x.revokedAt)).toBe(true);
	});

	it('exports everything about a user without the password hash, then deletes it with its data', async () => {
		const [m] = await db.insert(modules).values({ slug: 'm', title: 'M', position: 1 }).returning();
		const [l] = await db
			.insert(lessons)
			.values({ moduleId: m!.id, slug: 'l', title: 'L', position: 1, body: 'x' })
			.returning();
		await db.insert(lessonProgress).values({ userId: ann, lessonId: l!.id });
		const [e] = await db.insert(exams).values({ slug: 'ex', title: 'Exam' }).returning();
		const [tp] = await db
			.insert(topics)
			.values({ examId: e!.id, slug: 'tp', title: 'Topic', area: 'basics' })
			.returning();
		const [q] = await db
			.insert(questions)
			.values({
				examId: e!.id,
				topicId: tp!.id,
				ref: 'q1',
				kind: 'short',
				prompt: 'Q?',
				answer: { key: 'a' },
				explanation: 'Because.',
				difficulty: 1
			})
			.returning();
		await db.insert(answers).values({ userId: ann, questionId: q!.id, given: 'a', correct: true });
		const [c] = await db
			.insert(conversations)
			.values({ userId: ann, title: 'Loops help' })
			.returning();
		await db.insert(messages).values([
			{
				conversationId: c!.id,
				role: 'user',
				content: 'How do loops work?',
				status: 'complete',
				seq: 1
			},
			{
				conversationId: c!.id,
				role: 'assistant',
				content: 'What do you think?',
				status: 'complete',
				seq: 2
			}
		]);
		await record(db, { actorId: ann, action: 'account.login', ip: '10.0.0.9' });
		await db.insert(conversations).values({ userId: ann, title: 'Empty one' });
		const recent = await adminUsers.recentConversations(db, ann);
		expect(recent.map((r) => [r.title, r.messages]).sort()).toEqual([
			['Empty one', 0],
			['Loops help', 2]
		]);

		const download = (await adminUsers.exportStream(db, ann))!;
		const json = await new Response(download.body).text();
		const data = JSON.parse(json);
		// Written as it is read, yet the same text JSON.stringify gives.
		expect(json).toBe(JSON.stringify(data, null, 2));
		expect(json).not.toContain('argon2');
		expect(json).not.toMatch(/passwordHash|password_hash|tokenHash|tokenVersion/);
		expect(data.profile).toMatchObject({ id: ann, email: 'ann@example.com' });
		expect(data.conversations.filter((x: { title: string }) => x.title !== 'Empty one')).toEqual([
			expect.objectContaining({
				title: 'Loops help',
				messages: [
					expect.objectContaining({ role: 'user', content: 'How do loops work?' }),
					expect.objectContaining({ role: 'assistant', content: 'What do you think?' })
				]
			})
		]);
		expect(data.lessonProgress).toHaveLength(1);
		expect(data.practiceAnswers).toEqual([
			expect.objectContaining({ questionId: q!.id, correct: true })
		]);
		expect(data.aiUsage).toHaveLength(6);
		expect(data.auditLog).toEqual([
			expect.objectContaining({ action: 'account.login', ip: '10.0.0.9' })
		]);
		expect(await adminUsers.exportStream(db, crypto.randomUUID())).toBeNull();

		const deps = { db, config };
		expect(await adminUsers.remove(deps, admin, ann, 'someone@example.com')).toMatchObject({
			ok: false,
			status: 400
		});
		expect(await adminUsers.get(db, ann)).not.toBeNull();
		// Counters keyed by the id as text go too; other people's stay.
		await db.insert(spendDaily).values([
			{ subject: ann, day: '2026-11-22', usd: 0.2, calls: 2 },
			{ subject: bob, day: '2026-11-22', usd: 0.1, calls: 1 }
		]);
		await db.insert(rateLimits).values([
			{ key: `tutor:user:${ann}`, windowStart: new Date(), count: 3 },
			{ key: `http:api:user:${ann}`, windowStart: new Date(), count: 1 },
			{ key: `tutor:user:${bob}`, windowStart: new Date(), count: 1 }
		]);
		expect(await adminUsers.remove(deps, admin, ann, ' ANN@example.com ')).toEqual({
			ok: true,
			email: 'ann@example.com',
			displayName: 'ann'
		});
		expect(await adminUsers.get(db, ann)).toBeNull();
		expect(await db.select().from(conversations).where(eq(conversations.userId, ann))).toEqual([]);
		expect(await db.select().from(messages).where(eq(messages.conversationId, c!.id))).toEqual([]);
		expect(await db.select().from(lessonProgress).where(eq(lessonProgress.userId, ann))).toEqual(
			[]
		);
		expect(await db.select().from(answers).where(eq(answers.userId, ann))).toEqual([]);
		const subjects = (await db.select().from(spendDaily)).map((r) => r.subject);
		expect(subjects).toContain(bob);
		expect(subjects).not.toContain(ann);
		const keys = (await db.select().from(rateLimits)).map((r) => r.key);
		expect(keys).toContain(`tutor:user:${bob}`);
		expect(keys.filter((k) => k.includes(ann))).toEqual([]);
		// Usage stays for the cost reports, without the link to the person.
		const orphans = await db.select().from(llmUsage).where(eq(llmUsage.model, 'claude-haiku-4-5'));
		expect(orphans).toEqual([expect.objectContaining({ userId: null, costUsd: 0.05 })]);
		expect(await adminUsers.remove(deps, admin, ann, 'ann@example.com')).toMatchObject({
			ok: false,
			status: 404
		});
	});

	it('exports a long history batch by batch: every conversation once, in order, with its messages', async () => {
		const kim = (await addUser(db, 'kim@example.com')).id;
		const n = CONVERSATIONS_PER_READ * 2 + 7;
		// Half share one creation time (ties broken by id), half are now() with its microseconds.
		const created = await db
			.insert(conversations)
			.values(
				Array.from({ length: n }, (_, i) => ({
					userId: kim,
					title: `Chat ${i}`,
					createdAt: i % 2 ? new Date(Date.UTC(2026, 0, 1)) : undefined
				}))
			)
			.returning({ id: conversations.id, createdAt: conversations.createdAt });
		await db.insert(messages).values(
			created.flatMap((c) => [
				{
					conversationId: c.id,
					role: 'user' as const,
					content: `q ${c.id}`,
					status: 'complete' as const,
					seq: 1
				},
				{
					conversationId: c.id,
					role: 'assistant' as const,
					content: `a ${c.id}`,
					status: 'complete' as const,
					seq: 2
				}
			])
		);
		const download = (await adminUsers.exportStream(db, kim))!;
		const data = JSON.parse(await new Response(download.body).text());
		const order = created
			.toSorted((a, b) => +a.createdAt - +b.createdAt || (a.id < b.id ? -1 : 1))
			.map((c) => c.id);
		expect(data.conversations.map((c: { id: string }) => c.id)).toEqual(order);
		for (const c of data.conversations as { id: string; messages: { content: string }[] }[])
			expect(c.messages.map((m) => m.content)).toEqual([`q ${c.id}`, `a ${c.id}`]);
	});

	it('reads the audit log newest first, filtered by action and by actor email', async () => {
		await record(db, {
			actorId: admin,
			action: 'user.disable',
			targetId: bob,
			detail: { email: 'bob@example.com' }
		});
		await record(db, { actorId: admin, action: 'content.pack.export', targetId: 'starter' });
		await record(db, { actorId: null, action: 'content.pack.import', detail: { source: 'cli' } });
		const all = await auditLog.list(db, { page: 1 });
		expect(all.rows.map((r) => r.action).slice(0, 3)).toEqual([
			'content.pack.import',
			'content.pack.export',
			'user.disable'
		]);
		expect(all.rows[1]).toMatchObject({
			actorEmail: 'ada@example.com',
			targetId: 'starter',
			targetEmail: null
		});
		expect(all.rows[2]).toMatchObject({
			targetEmail: 'bob@example.com',
			detail: { email: 'bob@example.com' }
		});
		const byAction = await auditLog.list(db, { action: 'user.disable', page: 1 });
		expect(byAction.total).toBe(1);
		const byActor = await auditLog.list(db, { actor: 'ADA@', page: 1 });
		expect(byActor.total).toBe(2);
		expect(byActor.rows.every((r) => r.actorEmail === 'ada@example.com')).toBe(true);
		expect(await auditLog.list(db, { actor: '%', page: 1 })).toMatchObject({ total: 0 });
		expect(await auditLog.actions(db)).toEqual([
			'account.login',
			'content.pack.export',
			'content.pack.import',
			'user.disable'
		]);
	});

	it('stops counting the audit log at its cap, and still pages on past it', async () => {
		await db.execute(sql`
			insert into audit_log (action, target_id)
			select 'account.login', 'bulk-' || i from generate_series(1, ${auditLog.COUNT_CAP}) i`);
		const first = await auditLog.list(db, { page: 1 });
		expect(first).toMatchObject({ total: auditLog.COUNT_CAP, capped: true });
		expect(first.rows).toHaveLength(auditLog.PAGE_SIZE);
		const far = await auditLog.list(db, { page: auditLog.COUNT_CAP / auditLog.PAGE_SIZE + 1 });
		expect(far.rows.length).toBeGreaterThan(0);
		expect(await auditLog.list(db, { action: 'user.disable', page: 1 })).toMatchObject({
			total: 1,
			capped: false
		});
	});
});
