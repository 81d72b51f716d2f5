/**
 * A student's practice statistics: accuracy per topic (overall and per week), the weakest topics,
 * the streak of days with answers, and mock exam scores. Days and weeks are in UTC (weeks start on
 * Monday), so every replica and every test agrees on them.
 *
 * @example
 * const stats = await loadStats(db, userId);
 */
import { and, asc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import {
	answers,
	exams,
	mockExams,
	questions,
	reviewCards,
	topics
} from '#lib/server/db/schema.ts';

/** A topic needs this many answers before it can be called one of the weakest. */
export const WEAKEST_MIN_ANSWERS = 3;
export const WEAKEST_COUNT = 3;
/** Weeks shown in the accuracy-over-time charts. */
export const TIMELINE_WEEKS = 8;

/** Answers grouped by UTC day and topic; `day` is null for a topic's answers before the charts. */
export interface DayTopicRow {
	day: string | null;
	topicId: string;
	topic: string;
	exam: string;
	answered: number;
	correct: number;
}

export interface TopicStats {
	topicId: string;
	topic: string;
	exam: string;
	answered: number;
	correct: number;
	accuracy: number;
	/** Accuracy per week, oldest first, null for weeks without answers. */
	weeks: (number | null)[];
	weekAnswered: number[];
}

const DAY_MS = 86_400_000;
const dayOf = (date: Date) => date.toISOString().slice(0, 10);
const parseDay = (day: string) => Date.parse(`${day}T00:00:00Z`);

/** Monday (UTC) of the week holding `day`. */
export function weekStart(day: string) {
	const t = parseDay(day);
	const weekday = (new Date(t).getUTCDay() + 6) % 7;
	return dayOf(new Date(t - weekday * DAY_MS));
}

/** Days in a row with at least one answer, ending today (or yesterday, so it is not lost at midnight). */
export function streaks(days: string[], now: Date) {
	const set = new Set(days);
	let longest = 0;
	let run = 0;
	let previous: number | null = null;
	for (const t of [...set].map(parseDay).sort((a, b) => a - b)) {
		run = previous !== null && t - previous === DAY_MS ? run + 1 : 1;
		longest = Math.max(longest, run);
		previous = t;
	}
	let current = 0;
	let cursor = parseDay(dayOf(now));
	if (!set.has(dayOf(new Date(cursor)))) cursor -= DAY_MS;
	while (set.has(dayOf(new Date(cursor)))) {
		current++;
		cursor -= DAY_MS;
	}
	return { current, longest, activeToday: set.has(dayOf(now)) };
}

/** The Mondays of the `weeks` charted weeks, oldest first. */
function chartedWeeks(now: Date, weeks: number) {
	const thisWeek = parseDay(weekStart(dayOf(now)));
	return Array.from({ length: weeks }, (_, i) =>
		dayOf(new Date(thisWeek - (weeks - 1 - i) * 7 * DAY_MS))
	);
}

/** `days`: every UTC day with an answer (for the streaks), when `rows` leave out older days. */
export function computeStats(
	rows: DayTopicRow[],
	now: Date,
	weeks = TIMELINE_WEEKS,
	days = rows.flatMap((r) => (r.day ? [r.day] : []))
) {
	const weekStarts = chartedWeeks(now, weeks);
	const byTopic = new Map<string, TopicStats & { weekCorrect: number[] }>();
	for (const r of rows) {
		let t = byTopic.get(r.topicId);
		if (!t) {
			t = {
				topicId: r.topicId,
				topic: r.topic,
				exam: r.exam,
				answered: 0,
				correct: 0,
				accuracy: 0,
				weeks: [],
				weekAnswered: weekStarts.map(() => 0),
				weekCorrect: weekStarts.map(() => 0)
			};
			byTopic.set(r.topicId, t);
		}
		t.answered += r.answered;
		t.correct += r.correct;
		const w = r.day ? weekStarts.indexOf(weekStart(r.day)) : -1;
		if (w >= 0) {
			t.weekAnswered[w]! += r.answered;
			t.weekCorrect[w]! += r.correct;
		}
	}
	const perTopic: TopicStats[] = [...byTopic.values()]
		.map(({ weekCorrect, ...t }) => ({
			...t,
			accuracy: t.answered ? t.correct / t.answered : 0,
			weeks: t.weekAnswered.map((n, i) => (n ? weekCorrect[i]! / n : null))
		}))
		.sort((a, b) => a.exam.localeCompare(b.exam) || a.topic.localeCompare(b.topic));
	const weakest = perTopic
		.filter((t) => t.answered >= WEAKEST_MIN_ANSWERS)
		.sort((a, b) => a.accuracy - b.accuracy || b.answered - a.answered)
		.slice(0, WEAKEST_COUNT);
	const answered = rows.reduce((n, r) => n + r.answered, 0);
	const correct = rows.reduce((n, r) => n + r.correct, 0);
	return {
		answered,
		correct,
		accuracy: answered ? correct / answered : 0,
		perTopic,
		weakest,
		weekStarts,
		streak: streaks(days, now)
	};
}
export type Stats = ReturnType<typeof computeStats>;

/**
 * What the page draws, aggregated in SQL: answers by day and topic in the charted weeks, by topic
 * alone before them, and the days with answers. A year of answers stays a few dozen rows.
 */
export async function practiceRows(db: Db, userId: string, now: Date, weeks = TIMELINE_WEEKS) {
	const since = new Date(parseDay(chartedWeeks(now, weeks)[0]!));
	// Grouped by date and topic id first; the text and the names come with the few grouped rows.
	const date = sql`(${answers.answeredAt} at time zone 'UTC')::date`;
	const mine = eq(answers.userId, userId);
	const grouped = db
		.select({
			date: sql<
				string | null
			>`case when ${answers.answeredAt} >= ${since.toISOString()}::timestamptz
				then ${date} end`.as('date'),
			topicId: questions.topicId,
			answered: sql<number>`count(*)::int`.as('answered'),
			correct: sql<number>`count(*) filter (where ${answers.correct})::int`.as('correct')
		})
		.from(answers)
		.innerJoin(questions, eq(questions.id, answers.questionId))
		.where(mine)
		// By position: the date expression holds a parameter, so it cannot be repeated here.
		.groupBy(sql`1`, questions.topicId)
		.as('g');
	const dates = db
		.selectDistinct({ date: sql`${date}`.as('date') })
		.from(answers)
		.where(mine)
		.as('d');
	const [rows, days] = await Promise.all([
		db
			.select({
				day: sql<string | null>`to_char(${grouped.date}, 'YYYY-MM-DD')`,
				topicId: topics.id,
				topic: topics.title,
				exam: exams.title,
				answered: grouped.answered,
				correct: grouped.correct
			})
			.from(grouped)
			.innerJoin(topics, eq(topics.id, grouped.topicId))
			.innerJoin(exams, eq(exams.id, topics.examId)),
		db.select({ day: sql<string>`to_char(${dates.date}, 'YYYY-MM-DD')` }).from(dates)
	]);
	return {
		rows: rows.map((r) => ({ ...r, answered: Number(r.answered), correct: Number(r.correct) })),
		days: days.map((d) => d.day)
	};
}

/** Submitted mock exams, oldest first (the last 50), for the score history chart. */
export async function mockHistory(db: Db, userId: string) {
	const rows = await db
		.select({
			id: mockExams.id,
			exam: exams.title,
			submittedAt: mockExams.submittedAt,
			score: mockExams.score,
			total: mockExams.total,
			passPercent: exams.passPercent
		})
		.from(mockExams)
		.innerJoin(exams, eq(exams.id, mockExams.examId))
		.where(and(eq(mockExams.userId, userId), isNotNull(mockExams.submittedAt)))
		.orderBy(asc(mockExams.submittedAt))
		.limit(50);
	return rows.map((r) => ({
		...r,
		submittedAt: r.submittedAt!,
		percent: r.total ? Math.round(((r.score ?? 0) / r.total) * 100) : 0
	}));
}

/** The student's review queue: every question with a card, and how many are due now. */
export async function reviewQueue(db: Db, userId: string, now: Date) {
	const [row] = await db
		.select({
			cards: sql<number>`count(*)::int`,
			due: sql<number>`count(*) filter (where ${reviewCards.due} <= ${now.toISOString()}::timestamptz)::int`
		})
		.from(reviewCards)
		.where(eq(reviewCards.userId, userId));
	return { cards: Number(row?.cards ?? 0), due: Number(row?.due ?? 0) };
}

export async function loadStats(db: Db, userId: string, now = new Date()) {
	const [{ rows, days }, mocks, queue] = await Promise.all([
		practiceRows(db, userId, now),
		mockHistory(db, userId),
		reviewQueue(db, userId, now)
	]);
	return { ...computeStats(rows, now, TIMELINE_WEEKS, days), mocks, queue };
}
