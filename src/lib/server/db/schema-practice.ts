/**
 * Practice and assessment: exams and their topics, the question bank, every answer a student gives,
 * each student's FSRS review card per question, timed mock exams, and skill assessments with the
 * level they set per skill area.
 */
import {
	pgTable,
	uuid,
	text,
	integer,
	timestamp,
	jsonb,
	index,
	uniqueIndex,
	primaryKey,
	boolean,
	real
} from 'drizzle-orm/pg-core';
import type { InferSelectModel } from 'drizzle-orm';
import { users } from './schema-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export type QuestionKind = 'single' | 'multiple' | 'short' | 'output' | 'code';
export type SkillLevel = 'beginner' | 'intermediate' | 'advanced';
export type AnswerKey = number | number[] | string | string[];

/** An exam students practise for, e.g. an entry-level certification or a course midterm. */
export const exams = pgTable(
	'exams',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		slug: text('slug').notNull(),
		title: text('title').notNull(),
		description: text('description').notNull().default(''),
		/** A mock exam's default length and time limit. */
		mockQuestions: integer('mock_questions').notNull().default(20),
		mockMinutes: integer('mock_minutes').notNull().default(30),
		/** Share of points needed to pass, 0 to 100. */
		passPercent: integer('pass_percent').notNull().default(70),
		position: integer('position').notNull().default(0),
		createdAt: createdAt(),
		updatedAt: updatedAt()
	},
	(t) => [uniqueIndex('exams_slug_key').on(t.slug), index('exams_position_idx').on(t.position)]
);
export type Exam = InferSelectModel<typeof exams>;

/** A topic of one exam. `area` names the skill area the diagnostic assesses it under. */
export const topics = pgTable(
	'topics',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		examId: uuid('exam_id')
			.notNull()
			.references(() => exams.id, { onDelete: 'cascade' }),
		slug: text('slug').notNull(),
		title: text('title').notNull(),
		area: text('area').notNull(),
		position: integer('position').notNull().default(0),
		createdAt: createdAt()
	},
	(t) => [
		uniqueIndex('topics_exam_id_slug_key').on(t.examId, t.slug),
		index('topics_area_idx').on(t.area)
	]
);
export type Topic = InferSelectModel<typeof topics>;

/**
 * One question. `answer` holds `{ key }` (wrapped, because a bare JSON string such as "50" would come
 * back from postgres.js as a number). What `key` is depends on `kind`: single → option index;
 * multiple → sorted option indexes; short → accepted answers (strings) with an optional `pattern`;
 * output → the exact text the `code` prints; code → no answer (the `checks` decide, in the browser).
 */
export const questions = pgTable(
	'questions',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		/** Stable name from the question files, so re-imports update rather than duplicate. */
		ref: text('ref').notNull(),
		examId: uuid('exam_id')
			.notNull()
			.references(() => exams.id, { onDelete: 'cascade' }),
		topicId: uuid('topic_id')
			.notNull()
			.references(() => topics.id, { onDelete: 'cascade' }),
		kind: text('kind').$type<QuestionKind>().notNull(),
		/** Markdown. */
		prompt: text('prompt').notNull(),
		/** Python shown with the prompt (predict-the-output questions run it to verify the key). */
		code: text('code').notNull().default(''),
		options: jsonb('options').$type<string[]>().notNull().default([]),
		answer: jsonb('answer').$type<{ key: AnswerKey } | null>(),
		pattern: text('pattern'),
		starterCode: text('starter_code').notNull().default(''),
		solutionCode: text('solution_code').notNull().default(''),
		checks: text('checks').notNull().default(''),
		explanation: text('explanation').notNull(),
		/** 1 easy, 2 medium, 3 hard. */
		difficulty: integer('difficulty').notNull().default(2),
		createdAt: createdAt(),
		updatedAt: updatedAt()
	},
	(t) => [
		uniqueIndex('questions_ref_key').on(t.ref),
		index('questions_exam_id_topic_id_idx').on(t.examId, t.topicId),
		index('questions_topic_id_idx').on(t.topicId)
	]
);
export type Question = InferSelectModel<typeof questions>;

/** A timed mock exam: its questions, the student's responses while it runs, and its score. */
export const mockExams = pgTable(
	'mock_exams',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		examId: uuid('exam_id')
			.notNull()
			.references(() => exams.id, { onDelete: 'cascade' }),
		questionIds: jsonb('question_ids').$type<string[]>().notNull(),
		/** Question id → what the student chose so far (graded only at submit). */
		responses: jsonb('responses').$type<Record<string, unknown>>().notNull().default({}),
		startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
		/** Responses saved after this (plus a small grace) are ignored. */
		deadlineAt: timestamp('deadline_at', { withTimezone: true }).notNull(),
		submittedAt: timestamp('submitted_at', { withTimezone: true }),
		/** True when the deadline submitted it, not the student. */
		timedOut: boolean('timed_out').notNull().default(false),
		score: integer('score'),
		total: integer('total').notNull()
	},
	(t) => [
		index('mock_exams_user_id_started_at_idx').on(t.userId, t.startedAt),
		index('mock_exams_exam_id_idx').on(t.examId)
	]
);
export type MockExam = InferSelectModel<typeof mockExams>;

/** Every answer a student gave, in practice, review, mock exams and diagnostics. */
export const answers = pgTable(
	'answers',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		questionId: uuid('question_id')
			.notNull()
			.references(() => questions.id, { onDelete: 'cascade' }),
		given: jsonb('given').$type<unknown>(),
		correct: boolean('correct').notNull(),
		timeMs: integer('time_ms').notNull().default(0),
		/** practice | review | mock | diagnostic */
		mode: text('mode').notNull().default('practice'),
		mockExamId: uuid('mock_exam_id').references(() => mockExams.id, { onDelete: 'cascade' }),
		answeredAt: timestamp('answered_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		// Also INCLUDE (question_id, correct), set in migration 0010 (drizzle has no INCLUDE).
		index('answers_user_id_answered_at_idx').on(t.userId, t.answeredAt),
		index('answers_question_id_idx').on(t.questionId),
		index('answers_mock_exam_id_idx').on(t.mockExamId)
	]
);
export type Answer = InferSelectModel<typeof answers>;

/** A student's FSRS card for one question (ts-fsrs `Card` fields). */
export const reviewCards = pgTable(
	'review_cards',
	{
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		questionId: uuid('question_id')
			.notNull()
			.references(() => questions.id, { onDelete: 'cascade' }),
		due: timestamp('due', { withTimezone: true }).notNull(),
		stability: real('stability').notNull(),
		difficulty: real('difficulty').notNull(),
		elapsedDays: integer('elapsed_days').notNull().default(0),
		scheduledDays: integer('scheduled_days').notNull().default(0),
		learningSteps: integer('learning_steps').notNull().default(0),
		reps: integer('reps').notNull().default(0),
		lapses: integer('lapses').notNull().default(0),
		/** ts-fsrs State: 0 new, 1 learning, 2 review, 3 relearning. */
		state: integer('state').notNull().default(0),
		lastReview: timestamp('last_review', { withTimezone: true })
	},
	(t) => [
		primaryKey({ columns: [t.userId, t.questionId] }),
		index('review_cards_user_id_due_idx').on(t.userId, t.due),
		index('review_cards_question_id_idx').on(t.questionId)
	]
);
export type ReviewCard = InferSelectModel<typeof reviewCards>;

/** One adaptive diagnostic run in one skill area: its steps and the level it placed the student at. */
export const skillAssessments = pgTable(
	'skill_assessments',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		area: text('area').notNull(),
		/** Each step: the question asked, its difficulty, and whether the answer was right. */
		steps: jsonb('steps')
			.$type<{ questionId: string; difficulty: number; correct: boolean | null }[]>()
			.notNull()
			.default([]),
		startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
		finishedAt: timestamp('finished_at', { withTimezone: true }),
		/** Difficulty-weighted accuracy, 0 to 1. */
		score: real('score'),
		level: text('level').$type<SkillLevel>()
	},
	(t) => [index('skill_assessments_user_id_started_at_idx').on(t.userId, t.startedAt)]
);
export type SkillAssessment = InferSelectModel<typeof skillAssessments>;

/** The student's current level per skill area (the latest finished diagnostic). */
export const skillLevels = pgTable(
	'skill_levels',
	{
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		area: text('area').notNull(),
		level: text('level').$type<SkillLevel>().notNull(),
		assessmentId: uuid('assessment_id').references(() => skillAssessments.id, {
			onDelete: 'set null'
		}),
		assessedAt: timestamp('assessed_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		primaryKey({ columns: [t.userId, t.area] }),
		index('skill_levels_assessment_id_idx').on(t.assessmentId)
	]
);
export type SkillLevelRow = InferSelectModel<typeof skillLevels>;
