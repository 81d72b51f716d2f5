import {
	pgTable,
	uuid,
	text,
	integer,
	timestamp,
	jsonb,
	index,
	uniqueIndex,
	bigserial,
	primaryKey,
	real,
	customType
} from 'drizzle-orm/pg-core';
import type { InferSelectModel } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import { conversations, lessons, users } from './schema-core';

/** Postgres full-text search vector (drizzle has no built-in column type for it). */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const refreshTokens = pgTable(
	'refresh_tokens',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		/** Every token minted by rotation from one login shares a family; reuse revokes it whole. */
		familyId: uuid('family_id').notNull(),
		/** SHA-256 of the token's id (jti); the token itself is never stored. */
		tokenHash: text('token_hash').notNull(),
		expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
		usedAt: timestamp('used_at', { withTimezone: true }),
		revokedAt: timestamp('revoked_at', { withTimezone: true }),
		userAgent: text('user_agent'),
		createdAt: createdAt()
	},
	(t) => [
		uniqueIndex('refresh_tokens_token_hash_key').on(t.tokenHash),
		index('refresh_tokens_user_id_idx').on(t.userId),
		index('refresh_tokens_family_id_idx').on(t.familyId),
		index('refresh_tokens_expires_at_idx').on(t.expiresAt)
	]
);
export type RefreshToken = InferSelectModel<typeof refreshTokens>;

/** A single sign-on account (provider + its subject id) linked to a user. */
export const userIdentities = pgTable(
	'user_identities',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		/** The provider's id in the configuration (google, microsoft, github or an OIDC_PROVIDERS name). */
		provider: text('provider').notNull(),
		subject: text('subject').notNull(),
		/** The email the provider gave at the last sign-in, for the account page. */
		email: text('email'),
		createdAt: createdAt(),
		lastUsedAt: timestamp('last_used_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		uniqueIndex('user_identities_provider_subject_key').on(t.provider, t.subject),
		index('user_identities_user_id_idx').on(t.userId)
	]
);
export type UserIdentity = InferSelectModel<typeof userIdentities>;

/** Single-use links sent by email (password reset, email verification); only a hash is stored. */
export const accountTokens = pgTable(
	'account_tokens',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		purpose: text('purpose', { enum: ['reset', 'verify'] }).notNull(),
		/** SHA-256 of the token; the token itself is only in the email. */
		tokenHash: text('token_hash').notNull(),
		/** For a verification: the address it proves (the user may change it meanwhile). */
		email: text('email').notNull(),
		expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
		usedAt: timestamp('used_at', { withTimezone: true }),
		createdAt: createdAt()
	},
	(t) => [
		uniqueIndex('account_tokens_token_hash_key').on(t.tokenHash),
		index('account_tokens_user_id_idx').on(t.userId),
		index('account_tokens_expires_at_idx').on(t.expiresAt)
	]
);
export type AccountToken = InferSelectModel<typeof accountTokens>;

/** Fixed-window counters shared by every replica. */
export const rateLimits = pgTable(
	'rate_limits',
	{
		key: text('key').primaryKey(),
		windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
		count: integer('count').notNull()
	},
	(t) => [index('rate_limits_window_start_idx').on(t.windowStart)]
);
export type RateLimit = InferSelectModel<typeof rateLimits>;

export const auditLog = pgTable(
	'audit_log',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
		action: text('action').notNull(),
		targetId: text('target_id'),
		detail: jsonb('detail')
			.$type<Record<string, unknown>>()
			.notNull()
			.default(sql`'{}'::jsonb`),
		ip: text('ip'),
		createdAt: createdAt()
	},
	(t) => [
		index('audit_log_actor_id_idx').on(t.actorId),
		index('audit_log_created_at_idx').on(t.createdAt),
		index('audit_log_action_idx').on(t.action)
	]
);
export type AuditEntry = InferSelectModel<typeof auditLog>;

export const messages = pgTable(
	'messages',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		conversationId: uuid('conversation_id')
			.notNull()
			.references(() => conversations.id, { onDelete: 'cascade' }),
		role: text('role').$type<'user' | 'assistant'>().notNull(),
		content: text('content').notNull().default(''),
		/** streaming | complete | stopped | error | interrupted | superseded */
		status: text('status').$type<MessageStatus>().notNull(),
		errorKind: text('error_kind'),
		/** The browser's id for a sent message, so a resend after a reconnect is not doubled. */
		clientId: text('client_id'),
		/** Sequence number of the event that created it: messages sort by it. */
		seq: integer('seq').notNull(),
		model: text('model'),
		usage: jsonb('usage').$type<Record<string, number>>(),
		/** Why the answer is not the usual one (see NOTICES in the protocol), shown above it. */
		notice: text('notice'),
		createdAt: createdAt(),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		index('messages_conversation_id_seq_idx').on(t.conversationId, t.seq),
		uniqueIndex('messages_conversation_id_client_id_key').on(t.conversationId, t.clientId)
	]
);
export type Message = InferSelectModel<typeof messages>;
export type MessageStatus =
	'streaming' | 'complete' | 'stopped' | 'error' | 'interrupted' | 'superseded';

/**
 * The ordered log of a conversation. Consecutive text deltas flushed together share one row:
 * `parts[i]` is the text of sequence number `firstSeq + i`, and `seq` is the row's last number.
 */
export const conversationEvents = pgTable(
	'conversation_events',
	{
		conversationId: uuid('conversation_id')
			.notNull()
			.references(() => conversations.id, { onDelete: 'cascade' }),
		seq: integer('seq').notNull(),
		firstSeq: integer('first_seq').notNull(),
		type: text('type').notNull(),
		data: jsonb('data').$type<Record<string, unknown>>().notNull(),
		createdAt: createdAt()
	},
	(t) => [primaryKey({ columns: [t.conversationId, t.seq] })]
);
export type ConversationEventRow = InferSelectModel<typeof conversationEvents>;

/**
 * Course text split into passages for the tutor's retrieval (full-text search; lessons fill it).
 * `embedding` holds a vector as a float array when an embedding provider is configured.
 */
export const coursePassages = pgTable(
	'course_passages',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		/** What the passage belongs to, e.g. `lesson:<id>`; passages are replaced per source. */
		source: text('source').notNull(),
		title: text('title').notNull(),
		body: text('body').notNull(),
		tsv: tsvector('tsv')
			.notNull()
			.generatedAlwaysAs(
				sql`setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', body), 'B')`
			),
		embedding: real('embedding').array(),
		createdAt: createdAt()
	},
	(t) => [
		index('course_passages_tsv_idx').using('gin', t.tsv),
		index('course_passages_source_idx').on(t.source)
	]
);
export type CoursePassage = InferSelectModel<typeof coursePassages>;

export const exercises = pgTable(
	'exercises',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		lessonId: uuid('lesson_id')
			.notNull()
			.references(() => lessons.id, { onDelete: 'cascade' }),
		slug: text('slug').notNull(),
		title: text('title').notNull(),
		/** 1 (warm-up) to 3 (stretch). */
		difficulty: integer('difficulty').notNull().default(1),
		/** What to do, markdown. */
		prompt: text('prompt').notNull(),
		starterCode: text('starter_code').notNull().default(''),
		/** The reference solution: server-side only (never sent to a student's browser). */
		solutionCode: text('solution_code').notNull(),
		/** Python `check_*` functions run in the browser after the student's code. */
		checks: text('checks').notNull(),
		/**
		 * SHA-256 of solution + checks when an admin last ran the checks in the editor and they passed
		 * on the solution and failed on the starter; null when unverified (publishing needs it).
		 */
		checksVerifiedHash: text('checks_verified_hash'),
		position: integer('position').notNull().default(0),
		createdAt: createdAt(),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		uniqueIndex('exercises_lesson_id_slug_key').on(t.lessonId, t.slug),
		index('exercises_lesson_id_position_idx').on(t.lessonId, t.position)
	]
);
export type Exercise = InferSelectModel<typeof exercises>;

/** A student's work on one exercise: autosaved code, attempts, and whether the checks passed. */
export const exerciseProgress = pgTable(
	'exercise_progress',
	{
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		exerciseId: uuid('exercise_id')
			.notNull()
			.references(() => exercises.id, { onDelete: 'cascade' }),
		code: text('code'),
		attempts: integer('attempts').notNull().default(0),
		passedAt: timestamp('passed_at', { withTimezone: true }),
		/** The last check run: each check's name and whether it passed. */
		lastResult: jsonb('last_result').$type<{ name: string; passed: boolean }[]>(),
		lastError: text('last_error'),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		primaryKey({ columns: [t.userId, t.exerciseId] }),
		index('exercise_progress_exercise_id_idx').on(t.exerciseId)
	]
);
export type ExerciseProgress = InferSelectModel<typeof exerciseProgress>;

/** When a student opened and completed a lesson ("continue where you left off" reads it). */
export const lessonProgress = pgTable(
	'lesson_progress',
	{
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		lessonId: uuid('lesson_id')
			.notNull()
			.references(() => lessons.id, { onDelete: 'cascade' }),
		lastOpenedAt: timestamp('last_opened_at', { withTimezone: true }).notNull().defaultNow(),
		completedAt: timestamp('completed_at', { withTimezone: true })
	},
	(t) => [
		primaryKey({ columns: [t.userId, t.lessonId] }),
		index('lesson_progress_lesson_id_idx').on(t.lessonId),
		index('lesson_progress_user_id_last_opened_at_idx').on(t.userId, t.lastOpenedAt)
	]
);
export type LessonProgress = InferSelectModel<typeof lessonProgress>;
export * from './schema-core';
export * from './schema-practice';
export * from './schema-notebooks';
export * from './schema-cost';
