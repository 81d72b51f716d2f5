/**
 * Practice that counts right, on each database driver: a mock exam's blank questions stay out of
 * the answered count, the accuracy and the review queue; a review answer waits for the student's
 * rating, whose interval was shown beforehand, and is rated once; the daily review cap counts review
 * answers since midnight UTC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import path from 'node:path';
import { schema } from '../../src/lib/server/db/index.ts';
import { seedQuestionBank } from '../../src/lib/server/practice/bank.ts';
import { keyOf } from '../../src/lib/server/practice/grade.ts';
import * as questions from '../../src/lib/server/practice/questions.ts';
import * as mock from '../../src/lib/server/practice/mock.ts';
import * as review from '../../src/lib/server/practice/review.ts';
import { loadStats } from '../../src/lib/server/practice/stats.ts';
import { drivers, openTestDatabase, type TestDatabase, addUser } from '../helpers/db.ts';
import '../helpers/config.ts';

const BANK = path.resolve(import.meta.dirname, '../../content/questions');
type Db = TestDatabase['database']['db'];

async function questionByRef(db: Db, ref: string) {
	const [q] = await db.select().from(schema.questions).where(eq(schema.questions.ref, ref));
	return q!;
}

const cards = (db: Db, userId: string) =>
	db.select().from(schema.reviewCards).where(eq(schema.reviewCards.userId, userId));

describe.each(drivers)('practice counting on %s', (driver) => {
	let t: TestDatabase;
	let db: Db;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
		db = t.database.db;
		await seedQuestionBank(db, BANK);
	});
	afterAll(() => t?.drop());

	it('keeps blank mock-exam questions out of answered, accuracy and the review queue', async () => {
		const fay = await addUser(db, `fay-${driver}@example.com`);
		const exam = (await questions.examBySlug(db, 'python-entry'))!;
		const start = new Date('2026-06-01T10:00:00Z');
		const m = await mock.startMock(db, fay.id, exam, { questions: 4, minutes: 30, now: start });
		const [first, second] = await Promise.all(
			m.questionIds.slice(0, 2).map(async (id) => {
				const [q] = await db.select().from(schema.questions).where(eq(schema.questions.id, id));
				return q!;
			})
		);
		const right = (q: typeof first) => {
			const key = keyOf(q!);
			if (q!.kind === 'single') return { choice: key as number };
			if (q!.kind === 'multiple') return { choices: key as number[] };
			if (q!.kind === 'short') return { text: (key as string[])[0] };
			return { text: key as string };
		};
		const at = new Date(start.getTime() + 60_000);
		await mock.saveResponse(db, fay.id, m.id, first!.id, right(first), at);
		// A wrong answer: text nobody accepts, or an option that is not the key.
		const wrong =
			second!.kind === 'single'
				? { choice: ((keyOf(second!) as number) + 1) % second!.options.length }
				: second!.kind === 'multiple'
					? { choices: [] as number[] }
					: { text: 'certainly not the answer' };
		await mock.saveResponse(db, fay.id, m.id, second!.id, wrong, at);
		// The third question: an empty response counts as blank too.
		await mock.saveResponse(db, fay.id, m.id, m.questionIds[2]!, { text: '   ' }, at);
		const done = await mock.submitMock(db, fay.id, m.id, new Date(start.getTime() + 120_000));
		expect(done.score).toBe(1);
		expect(done.total).toBe(4);

		const review_ = await mock.mockReview(db, fay.id, done);
		const blankExpected = second!.kind === 'multiple' ? 3 : 2;
		expect(mock.unansweredCount(review_)).toBe(blankExpected);

		const stats = await loadStats(db, fay.id, new Date(start.getTime() + 180_000));
		expect(stats.answered).toBe(4 - blankExpected);
		expect(stats.correct).toBe(1);
		expect(stats.accuracy).toBe(1 / (4 - blankExpected));
		expect(stats.queue.cards).toBe(4 - blankExpected);
		// Only the answered questions have review cards; the blank ones are not in the queue.
		const held = (await cards(db, fay.id)).map((c) => c.questionId).sort();
		const answeredIds = review_.filter((r) => !r.unanswered).map((r) => r.question.id);
		expect(held).toEqual([...answeredIds].sort());
		for (const r of review_.filter((r) => r.unanswered)) expect(held).not.toContain(r.question.id);
	});

	it('previews each rating, leaves the card to the rating, and rates once', async () => {
		const gus = await addUser(db, `gus-${driver}@example.com`);
		const q = await questionByRef(db, 'pe-op-01');
		const t0 = new Date('2026-06-02T09:00:00Z');
		await questions.answer(
			db,
			gus.id,
			q,
			{ choice: 1 },
			{ timeMs: 30_000, mode: 'practice', now: t0 }
		);
		const [before] = await cards(db, gus.id);
		const t1 = before!.due;

		const shown = await review.preview(db, gus.id, q.id, t1);
		const times = (['again', 'hard', 'good', 'easy'] as const).map((r) => shown[r].getTime());
		expect(times).toEqual([...times].sort((a, b) => a - b));
		expect(times[0]).toBeLessThan(times[3]!);

		const answered = await questions.answer(
			db,
			gus.id,
			q,
			{ choice: 1 },
			{ timeMs: 9_000, mode: 'review', now: t1 }
		);
		expect(answered.card).toBeNull();
		// The card has not moved: it waits for the rating.
		expect((await cards(db, gus.id))[0]!.due.getTime()).toBe(t1.getTime());

		const rated = await review.rate(
			db,
			gus.id,
			answered.answer.id,
			'hard',
			new Date(t1.getTime() + 5_000)
		);
		expect(rated.ok).toBe(true);
		const after = (await cards(db, gus.id))[0]!;
		// What the Hard button showed is where the card went (the rating came 5 s later).
		expect(Math.abs(after.due.getTime() - shown.hard.getTime())).toBeLessThanOrEqual(5_000);

		// Rated once; nobody else can rate it; a practice answer is not a review.
		expect(await review.rate(db, gus.id, answered.answer.id, 'easy')).toMatchObject({
			ok: false,
			status: 409
		});
		const other = await addUser(db, `hal-${driver}@example.com`);
		expect(await review.rate(db, other.id, answered.answer.id, 'easy')).toMatchObject({
			ok: false,
			status: 404
		});
		const practised = await questions.answer(
			db,
			other.id,
			q,
			{ choice: 1 },
			{ timeMs: 9_000, mode: 'practice' }
		);
		expect(await review.rate(db, other.id, practised.answer.id, 'easy')).toMatchObject({
			ok: false,
			status: 404
		});
	});

	it('counts review answers since midnight UTC against the daily cap', async () => {
		const ivy = await addUser(db, `ivy-${driver}@example.com`);
		const q = await questionByRef(db, 'pe-op-02');
		const late = new Date('2026-06-03T23:59:00Z');
		const next = new Date('2026-06-04T00:01:00Z');
		const answerAt = (at: Date, mode: 'review' | 'practice' = 'review') =>
			questions.answer(db, ivy.id, q, { choice: 0 }, { timeMs: 5_000, mode, now: at });
		await answerAt(late);
		await answerAt(late);
		expect(await review.allowance(db, ivy.id, 2, late)).toEqual({ done: 2, limit: 2, left: 0 });
		// After midnight UTC the count starts again; practice answers never count.
		await answerAt(next);
		await answerAt(next, 'practice');
		expect(await review.allowance(db, ivy.id, 2, next)).toEqual({ done: 1, limit: 2, left: 1 });
	});
});
