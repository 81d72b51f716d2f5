/**
 * Practice and assessment on each database driver: the bank seeds once; stats from a known answer
 * history; FSRS due dates after right and wrong answers; an import with one bad row imports nothing
 * and names the row; a student can never read another student's answers; mock exam deadlines are
 * enforced on the server; the diagnostic stores a level that the tutor's context then carries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, count, eq } from 'drizzle-orm';
import path from 'node:path';
import { schema } from '../../src/lib/server/db/index.ts';
import { seedQuestionBank } from '../../src/lib/server/practice/bank.ts';
import { parseCsvRows, toCsv } from '../../src/lib/server/practice/question-csv.ts';
import { exportQuestions } from '../../src/lib/server/practice/question-export.ts';
import { importQuestions, parseJsonRows } from '../../src/lib/server/practice/question-import.ts';
import { checkRows, type QuestionInput } from '../../src/lib/server/practice/question-input.ts';
import * as questions from '../../src/lib/server/practice/questions.ts';
import * as mock from '../../src/lib/server/practice/mock.ts';
import { keyOf } from '../../src/lib/server/practice/grade.ts';
import * as diagnostic from '../../src/lib/server/practice/diagnostic.ts';
import { computeStats, loadStats, streaks } from '../../src/lib/server/practice/stats.ts';
import { askAboutAnswer, resolveContext } from '../../src/lib/server/learn/tutor-context.ts';
import { contextBlock } from '../../src/lib/server/tutor/prompt.ts';
import { drivers, openTestDatabase, type TestDatabase, addUser } from '../helpers/db.ts';
import '../helpers/config.ts';

const BANK = path.resolve(import.meta.dirname, '../../content/questions');
type Db = TestDatabase['database']['db'];

/** What a student who knows the answer sends. */
function rightAnswer(q: typeof schema.questions.$inferSelect) {
	const key = keyOf(q);
	if (q.kind === 'single') return { choice: key as number };
	if (q.kind === 'multiple') return { choices: key as number[] };
	if (q.kind === 'short') return { text: (key as string[])[0] };
	return { text: key as string };
}

async function questionByRef(db: Db, ref: string) {
	const [q] = await db.select().from(schema.questions).where(eq(schema.questions.ref, ref));
	return q!;
}

describe('stats (pure)', () => {
	it('computes accuracy per topic, weekly accuracy, weakest topics and streaks in UTC', () => {
		// Wednesday 2026-03-18, 10:00 UTC. Its week starts Monday 2026-03-16.
		const now = new Date('2026-03-18T10:00:00Z');
		const rows = [
			{ day: '2026-03-18', topicId: 'a', topic: 'Loops', exam: 'E', answered: 4, correct: 1 },
			{ day: '2026-03-17', topicId: 'a', topic: 'Loops', exam: 'E', answered: 2, correct: 2 },
			{ day: '2026-03-16', topicId: 'b', topic: 'Strings', exam: 'E', answered: 5, correct: 5 },
			{ day: '2026-03-10', topicId: 'b', topic: 'Strings', exam: 'E', answered: 5, correct: 3 },
			{ day: '2026-03-05', topicId: 'c', topic: 'Sets', exam: 'E', answered: 2, correct: 0 }
		];
		const s = computeStats(rows, now, 3);
		expect(s.answered).toBe(18);
		expect(s.correct).toBe(11);
		expect(s.weekStarts).toEqual(['2026-03-02', '2026-03-09', '2026-03-16']);
		const loops = s.perTopic.find((t) => t.topic === 'Loops')!;
		expect(loops).toMatchObject({
			answered: 6,
			correct: 3,
			accuracy: 0.5,
			weeks: [null, null, 0.5]
		});
		const strings = s.perTopic.find((t) => t.topic === 'Strings')!;
		expect(strings.weeks).toEqual([null, 0.6, 1]);
		expect(strings.accuracy).toBe(0.8);
		// Sets has too few answers to count; Loops (50%) is weaker than Strings (80%).
		expect(s.weakest.map((t) => t.topic)).toEqual(['Loops', 'Strings']);
		// 16, 17, 18 March in a row; the 10th and 5th stand alone.
		expect(s.streak).toEqual({ current: 3, longest: 3, activeToday: true });
	});

	it('keeps a streak alive until the end of the next day, then resets it', () => {
		const days = ['2026-01-01', '2026-01-02'];
		expect(streaks(days, new Date('2026-01-03T23:59:00Z')).current).toBe(2);
		expect(streaks(days, new Date('2026-01-04T00:01:00Z')).current).toBe(0);
		expect(streaks(days, new Date('2026-01-04T00:01:00Z')).longest).toBe(2);
	});
});

describe('import validation (pure)', () => {
	it('names every bad row and why', () => {
		const rows = [
			{
				ref: 'ok-1',
				exam: 'e',
				topic: 't',
				kind: 'single',
				difficulty: 1,
				prompt: 'P',
				options: ['a', 'b'],
				answer: 1,
				explanation: 'E'
			},
			{
				ref: 'bad-1',
				exam: 'e',
				topic: 't',
				kind: 'single',
				difficulty: 1,
				prompt: 'P',
				options: ['a', 'b'],
				answer: 3,
				explanation: 'E'
			},
			{
				ref: 'bad-2',
				exam: 'e',
				topic: 't',
				kind: 'essay',
				difficulty: 1,
				prompt: 'P',
				explanation: 'E'
			},
			{
				ref: 'ok-1',
				exam: 'e',
				topic: 't',
				kind: 'short',
				difficulty: 2,
				prompt: 'P',
				answer: ['x'],
				explanation: 'E'
			}
		];
		const checked = checkRows(rows);
		expect(checked.ok).toBe(false);
		if (checked.ok) return;
		expect(checked.errors.map((e) => e.row)).toEqual([2, 3, 4]);
		expect(checked.errors[0]!.message).toMatch(/answer: must be the number \(from 1\)/);
		expect(checked.errors[1]!.message).toMatch(/kind/);
		expect(checked.errors[2]!.message).toMatch(/also used by row 1/);
	});

	it('round-trips CSV with commas, quotes and line breaks', () => {
		const q: QuestionInput = {
			ref: 'csv-1',
			exam: 'e',
			topic: 't',
			kind: 'output',
			difficulty: 2,
			prompt: 'What, "exactly", prints?',
			code: 'print(1)\nprint(2)',
			options: [],
			answer: '1\n2',
			pattern: null,
			starterCode: '',
			solutionCode: '',
			checks: '',
			explanation: 'Two lines.'
		};
		const parsed = parseCsvRows(toCsv([q]));
		expect(parsed.ok).toBe(true);
		if (!parsed.ok) return;
		const checked = checkRows(parsed.raw, parsed.rowNumber);
		expect(checked).toEqual({ ok: true, rows: [q] });
	});
});

describe.each(drivers)('practice on %s', (driver) => {
	let t: TestDatabase;
	let db: Db;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
		db = t.database.db;
		expect(await seedQuestionBank(db, BANK)).toEqual({ exams: 2, questions: 150 });
	}, 120_000);
	afterAll(() => t?.drop());

	it('seeds the bank once', async () => {
		expect(await seedQuestionBank(db, BANK)).toBeNull();
		const [{ n }] = (await db.select({ n: count() }).from(schema.questions)) as [{ n: number }];
		expect(Number(n)).toBe(150);
	});

	it('aggregates a long history in SQL: totals of every answer, charts of recent weeks, streaks of all days', async () => {
		const dee = await addUser(db, 'dee@example.com');
		const [q] = await db.select().from(schema.questions).limit(1);
		const now = new Date('2026-03-18T10:00:00Z');
		// 40 answers a day on three days in a row a year ago (half right), one right answer today.
		const at = (iso: string, correct: boolean) => ({
			userId: dee.id,
			questionId: q!.id,
			correct,
			answeredAt: new Date(iso)
		});
		await db
			.insert(schema.answers)
			.values([
				...['2025-03-01', '2025-03-02', '2025-03-03'].flatMap((day) =>
					Array.from({ length: 40 }, (_, i) => at(`${day}T12:00:00Z`, i % 2 === 0))
				),
				at('2026-03-18T09:00:00Z', true)
			]);
		const s = await loadStats(db, dee.id, now);
		expect(s).toMatchObject({ answered: 121, correct: 61 });
		const topic = s.perTopic[0]!;
		expect(topic.answered).toBe(121);
		expect(topic.weekAnswered).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
		expect(topic.weeks.at(-1)).toBe(1);
		expect(s.streak).toEqual({ current: 1, longest: 3, activeToday: true });
	});

	it('grades on the server and moves the FSRS due date: later after right, soon after wrong', async () => {
		const ana = await addUser(db, `ana-${driver}@example.com`);
		const q = await questionByRef(db, 'pe-op-01'); // 17 // 5: the answer is option 1
		const t0 = new Date('2026-04-01T09:00:00Z');
		const first = await questions.answer(
			db,
			ana.id,
			q,
			{ choice: 1 },
			{ timeMs: 30_000, mode: 'practice', now: t0 }
		);
		expect(first.correct).toBe(true);
		const afterRight = first.card!.due.getTime() - t0.getTime();
		expect(afterRight).toBeGreaterThan(0);

		// Right again the next time it is due: the interval grows.
		const t1 = first.card!.due;
		const second = await questions.answer(
			db,
			ana.id,
			q,
			{ choice: 1 },
			{ timeMs: 30_000, mode: 'practice', now: t1 }
		);
		const afterSecond = second.card!.due.getTime() - t1.getTime();
		expect(afterSecond).toBeGreaterThan(afterRight);
		expect(second.card!.reps).toBe(2);

		// Wrong when next due: a lapse, and it is due again within the hour, far sooner than before.
		const t2 = second.card!.due;
		const wrong = await questions.answer(
			db,
			ana.id,
			q,
			{ choice: 0 },
			{ timeMs: 5_000, mode: 'practice', now: t2 }
		);
		expect(wrong.correct).toBe(false);
		const afterWrong = wrong.card!.due.getTime() - t2.getTime();
		expect(afterWrong).toBeLessThanOrEqual(60 * 60_000);
		expect(afterWrong).toBeLessThan(afterSecond);
		expect(wrong.card!.lapses).toBe(1);

		// A quick right answer on a new card is Easy: due later than a slow (Good) one.
		const q2 = await questionByRef(db, 'pe-op-02');
		const q3 = await questionByRef(db, 'pe-op-09');
		const easy = await questions.answer(
			db,
			ana.id,
			q2,
			{ choice: 0 },
			{ timeMs: 3_000, mode: 'practice', now: t0 }
		);
		const good = await questions.answer(
			db,
			ana.id,
			q3,
			{ text: '2.5 2' },
			{ timeMs: 60_000, mode: 'practice', now: t0 }
		);
		expect(easy.correct && good.correct).toBe(true);
		expect(easy.card!.due.getTime()).toBeGreaterThan(good.card!.due.getTime());

		// The due queue: only what is due at that moment.
		expect(await questions.dueCount(db, ana.id, undefined, t0)).toBe(0);
		const due = await questions.pick(db, ana.id, {
			mode: 'review',
			limit: 10,
			now: new Date(t2.getTime() + 61 * 60_000)
		});
		expect(due.map((d) => d.question.ref)).toContain('pe-op-01');
	});

	it('imports nothing when one row is bad, and reports that row', async () => {
		const before = await exportQuestions(db);
		const good = { ...before[0]!, ref: 'new-good-1', prompt: 'A new question?' };
		const bad = { ...before[1]!, ref: 'new-bad-1', topic: 'no-such-topic' };
		const changed = { ...before[2]!, prompt: 'Changed prompt' };
		const json = JSON.stringify([good, changed, bad]);
		const report = await importQuestions(db, parseJsonRows(json));
		expect(report).toMatchObject({ ok: false, created: 0, updated: 0 });
		expect(report.errors).toEqual([
			{ row: 3, ref: 'new-bad-1', message: expect.stringMatching(/has no topic "no-such-topic"/) }
		]);
		expect(await exportQuestions(db)).toEqual(before);

		// The same file in CSV, with a bad key in row 3 (the header is row 1).
		const csvRows = [
			good,
			{ ...before[1]!, ref: 'new-bad-2', kind: 'single' as const, options: ['a', 'b'], answer: 7 }
		];
		const csvReport = await importQuestions(db, parseCsvRows(toCsv(csvRows)));
		expect(csvReport.ok).toBe(false);
		expect(csvReport.errors).toEqual([
			{ row: 3, ref: 'new-bad-2', message: expect.stringMatching(/answer/) }
		]);
		expect(await exportQuestions(db)).toEqual(before);

		// Without the bad row it all goes in.
		const ok = await importQuestions(db, parseJsonRows(JSON.stringify([good, changed])));
		expect(ok).toEqual({ ok: true, created: 1, updated: 1, errors: [] });
		await db.delete(schema.questions).where(eq(schema.questions.ref, 'new-good-1'));
		await importQuestions(db, parseJsonRows(JSON.stringify([before[2]])));
	});

	it("never lets a student read another student's answers", async () => {
		const bo = await addUser(db, `bo-${driver}@example.com`);
		const cy = await addUser(db, `cy-${driver}@example.com`);
		const q = await questionByRef(db, 'pe-vt-02');
		const bos = await questions.answer(
			db,
			bo.id,
			q,
			{ choice: 0 },
			{ timeMs: 1000, mode: 'practice' }
		);
		expect(await questions.ownAnswer(db, bo.id, bos.answer.id)).not.toBeNull();
		expect(await questions.ownAnswer(db, cy.id, bos.answer.id)).toBeNull();
		expect((await questions.history(db, cy.id)).total).toBe(0);
		expect((await questions.history(db, bo.id)).rows.map((r) => r.id)).toEqual([bos.answer.id]);
		expect((await loadStats(db, cy.id)).answered).toBe(0);
		expect(await questions.dueCount(db, cy.id, undefined, new Date(Date.now() + 86_400_000))).toBe(
			0
		);
		// "Ask the tutor why" with someone else's answer creates nothing.
		expect(await askAboutAnswer(db, cy.id, bos.answer.id)).toBeNull();
		// A conversation that points at another student's answer resolves without it.
		const resolved = await resolveContext(db, cy.id, { practiceAnswerId: bos.answer.id });
		expect(resolved.context?.practice).toBeUndefined();
		// Bo's own question carries the question, his answer and the right one to the tutor.
		const id = await askAboutAnswer(db, bo.id, bos.answer.id);
		const [conversation] = await db
			.select()
			.from(schema.conversations)
			.where(eq(schema.conversations.id, id!));
		const own = await resolveContext(db, bo.id, conversation!.context);
		expect(own.context?.practice).toMatchObject({
			given: 'int',
			expected: 'float',
			wasRight: false
		});
		expect(contextBlock(own.context)).toMatch(/Student's answer: int\nRight answer: float/);
		// Mock exams are scoped the same way.
		const exam = (await questions.examBySlug(db, 'python-entry'))!;
		const m = await mock.startMock(db, bo.id, exam, { questions: 3 });
		expect(await mock.getMock(db, cy.id, m.id)).toBeNull();
		await expect(
			mock.saveResponse(db, cy.id, m.id, m.questionIds[0]!, { choice: 0 })
		).rejects.toThrow(/does not exist/);
	});

	it('enforces the mock exam deadline on the server and scores what was saved in time', async () => {
		const di = await addUser(db, `di-${driver}@example.com`);
		const exam = (await questions.examBySlug(db, 'python-entry'))!;
		const start = new Date('2026-05-01T12:00:00Z');
		const m = await mock.startMock(db, di.id, exam, { questions: 5, minutes: 10, now: start });
		expect(m.questionIds).toHaveLength(5);
		const rows = await db
			.select()
			.from(schema.questions)
			.where(eq(schema.questions.id, m.questionIds[0]!));
		const q = rows[0]!;
		const right = rightAnswer(q);
		await mock.saveResponse(db, di.id, m.id, q.id, right, new Date(start.getTime() + 60_000));
		// Eleven minutes in: too late to answer, and loading it submits it.
		const late = new Date(start.getTime() + 11 * 60_000);
		await expect(
			mock.saveResponse(db, di.id, m.id, m.questionIds[1]!, { choice: 0 }, late)
		).rejects.toThrow(/over/);
		const done = (await mock.getMock(db, di.id, m.id, late))!;
		expect(done).toMatchObject({ score: 1, total: 5, timedOut: true });
		const review = await mock.mockReview(db, di.id, done);
		expect(review.filter((r) => r.answer?.correct)).toHaveLength(1);
		// The four left blank are unanswered, not wrong answers: only the one answer is recorded.
		expect(mock.unansweredCount(review)).toBe(4);
		const [{ n }] = (await db
			.select({ n: count() })
			.from(schema.answers)
			.where(and(eq(schema.answers.mockExamId, m.id), eq(schema.answers.userId, di.id)))) as [
			{ n: number }
		];
		expect(Number(n)).toBe(1);
	});

	it('runs the staircase diagnostic, stores the level, and gives it to the tutor', async () => {
		const ed = await addUser(db, `ed-${driver}@example.com`);
		// No level yet: the tutor's context has none.
		expect((await resolveContext(db, ed.id, {})).context?.level).toBeUndefined();
		const a = (await diagnostic.startDiagnostic(db, ed.id, 'fundamentals'))!;
		expect(a.steps[0]!.difficulty).toBe(diagnostic.START_DIFFICULTY);
		let result;
		for (let i = 0; i < diagnostic.DIAGNOSTIC_LENGTH; i++) {
			const current = (await diagnostic.getDiagnostic(db, ed.id, a.id))!;
			const step = current.steps.at(-1)!;
			if (i > 0) {
				// Right answers only: the staircase climbs to hard and stays there.
				expect(step.difficulty).toBe(3);
			}
			const [q] = await db
				.select()
				.from(schema.questions)
				.where(eq(schema.questions.id, step.questionId));
			const right = rightAnswer(q!);
			result = await diagnostic.answerDiagnostic(db, ed.id, a.id, right, 5000);
			expect(result?.correct).toBe(true);
		}
		expect(result).toMatchObject({ done: true, level: 'advanced' });
		expect(await diagnostic.levelsOf(db, ed.id)).toMatchObject([
			{ area: 'fundamentals', level: 'advanced' }
		]);
		// Every conversation, even one with no stored context, now carries the level.
		expect((await resolveContext(db, ed.id, null)).context?.level).toBe('advanced');
		expect(contextBlock((await resolveContext(db, ed.id, {})).context)).toContain(
			'Student level: advanced.'
		);
		// Another area at beginner: the tutor gets the rounded-down average, intermediate.
		await db
			.insert(schema.skillLevels)
			.values({ userId: ed.id, area: 'data-structures', level: 'beginner' });
		expect((await resolveContext(db, ed.id, {})).context?.level).toBe('intermediate');
	});
});

describe('diagnostic scoring (pure)', () => {
	it('moves one step per answer and scores difficulty points over the most possible', () => {
		expect(diagnostic.nextDifficulty(2, true)).toBe(3);
		expect(diagnostic.nextDifficulty(3, true)).toBe(3);
		expect(diagnostic.nextDifficulty(1, false)).toBe(1);
		const mediumOnly = [2, 3, 2, 3, 2, 3, 2, 3].map((d) => ({ difficulty: d, correct: d === 2 }));
		expect(diagnostic.scoreSteps(mediumOnly)).toBeCloseTo(8 / 24);
		expect(diagnostic.levelFor(diagnostic.scoreSteps(mediumOnly))).toBe('intermediate');
		const easyOnly = [2, 1, 2, 1, 2, 1, 2, 1].map((d) => ({ difficulty: d, correct: d === 1 }));
		expect(diagnostic.levelFor(diagnostic.scoreSteps(easyOnly))).toBe('beginner');
		const strong = [2, 3, 3, 3, 3, 3, 3, 3].map((d) => ({ difficulty: d, correct: true }));
		expect(diagnostic.levelFor(diagnostic.scoreSteps(strong))).toBe('advanced');
	});
});
