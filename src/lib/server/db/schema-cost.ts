/**
 * AI cost control: a usage row per LLM call (or cache hit), the editable price table, the response
 * cache, the admin-editable settings (budgets, routing, cache) and one row per budget alert sent.
 */
import {
	pgTable,
	uuid,
	text,
	timestamp,
	jsonb,
	index,
	uniqueIndex,
	integer,
	doublePrecision,
	date,
	boolean,
	bigint,
	primaryKey
} from 'drizzle-orm/pg-core';
import type { InferSelectModel } from 'drizzle-orm';
import { conversations, lessons, users } from './schema-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/**
 * One LLM call, or one answer served without a call. A call is inserted as `reserved` with its
 * worst-case cost before it starts (so concurrent calls cannot overrun a budget together) and
 * updated with the real figures when it ends.
 */
export const llmUsage = pgTable(
	'llm_usage',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
		conversationId: uuid('conversation_id').references(() => conversations.id, {
			onDelete: 'set null'
		}),
		messageId: uuid('message_id'),
		/** tutor | health */
		purpose: text('purpose').notNull().default('tutor'),
		provider: text('provider').notNull(),
		model: text('model').notNull(),
		/** provider: a paid call · cache: served from the response cache · offline: course search */
		source: text('source').notNull().default('provider'),
		/** The cheaper model was chosen by the routing rule. */
		routed: boolean('routed').notNull().default(false),
		inputTokens: integer('input_tokens').notNull().default(0),
		outputTokens: integer('output_tokens').notNull().default(0),
		/** Input tokens read from the provider's prompt cache (billed at the cached rate). */
		cachedInputTokens: integer('cached_input_tokens').notNull().default(0),
		/** Input tokens written to the provider's prompt cache (Anthropic bills these higher). */
		cacheWriteTokens: integer('cache_write_tokens').notNull().default(0),
		costUsd: doublePrecision('cost_usd').notNull().default(0),
		/** What the call would have cost without the cost measures, minus what it cost. */
		savedUsd: doublePrecision('saved_usd').notNull().default(0),
		/** Tokens not sent to the provider thanks to the response cache. */
		savedTokens: integer('saved_tokens').notNull().default(0),
		/** The question could be answered from the response cache (nothing personal in it). */
		cacheEligible: boolean('cache_eligible').notNull().default(false),
		latencyMs: integer('latency_ms'),
		firstTokenMs: integer('first_token_ms'),
		/** reserved | complete | stopped | error | interrupted */
		outcome: text('outcome').notNull(),
		errorKind: text('error_kind'),
		createdAt: createdAt()
	},
	(t) => [
		index('llm_usage_created_at_idx').on(t.createdAt),
		index('llm_usage_user_id_created_at_idx').on(t.userId, t.createdAt)
	]
);
export type LlmUsage = InferSelectModel<typeof llmUsage>;

/**
 * The usage log summed per UTC day, kept by a trigger on llm_usage (migration 0007), so the admin
 * reports read a few rows per day instead of re-aggregating the log.
 */
export const usageDaily = pgTable(
	'usage_daily',
	{
		day: date('day').notNull(),
		provider: text('provider').notNull(),
		model: text('model').notNull(),
		source: text('source').notNull(),
		routed: boolean('routed').notNull(),
		outcome: text('outcome').notNull(),
		calls: integer('calls').notNull().default(0),
		costUsd: doublePrecision('cost_usd').notNull().default(0),
		savedUsd: doublePrecision('saved_usd').notNull().default(0),
		inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
		outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
		cachedInputTokens: bigint('cached_input_tokens', { mode: 'number' }).notNull().default(0),
		/** Calls the response cache could have answered, and tokens it saved (the cache's figures). */
		eligibleCalls: integer('eligible_calls').notNull().default(0),
		savedTokens: bigint('saved_tokens', { mode: 'number' }).notNull().default(0),
		/** Sums and counts of the non-null latencies, for their means. */
		latencyMsSum: bigint('latency_ms_sum', { mode: 'number' }).notNull().default(0),
		latencyCount: integer('latency_count').notNull().default(0),
		firstTokenMsSum: bigint('first_token_ms_sum', { mode: 'number' }).notNull().default(0),
		firstTokenCount: integer('first_token_count').notNull().default(0)
	},
	(t) => [primaryKey({ columns: [t.day, t.provider, t.model, t.source, t.routed, t.outcome] })]
);

/** Each student's calls and cost per UTC day (same trigger); gone with the account. */
export const usageUserDaily = pgTable(
	'usage_user_daily',
	{
		day: date('day').notNull(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		calls: integer('calls').notNull().default(0),
		costUsd: doublePrecision('cost_usd').notNull().default(0)
	},
	(t) => [
		primaryKey({ columns: [t.day, t.userId] }),
		index('usage_user_daily_user_id_day_idx').on(t.userId, t.day)
		// Plus usage_user_daily_day_cover_idx (day) INCLUDE (user_id, calls, cost_usd), migration 0011.
	]
);

/** Admin overrides of the built-in price table, in US dollars per million tokens. */
export const modelPrices = pgTable('model_prices', {
	model: text('model').primaryKey(),
	inputPerMTok: doublePrecision('input_per_mtok').notNull(),
	outputPerMTok: doublePrecision('output_per_mtok').notNull(),
	cachedInputPerMTok: doublePrecision('cached_input_per_mtok').notNull(),
	cacheWritePerMTok: doublePrecision('cache_write_per_mtok').notNull(),
	updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
	updatedAt: updatedAt()
});
export type ModelPrice = InferSelectModel<typeof modelPrices>;

/**
 * Answers that depend on nothing personal, keyed by a hash of the normalized question and the
 * course material the prompt carried. Rows of a lesson go when the lesson changes.
 */
export const responseCache = pgTable(
	'response_cache',
	{
		key: text('key').primaryKey(),
		lessonId: uuid('lesson_id').references(() => lessons.id, { onDelete: 'cascade' }),
		question: text('question').notNull(),
		answer: text('answer').notNull(),
		provider: text('provider').notNull(),
		model: text('model').notNull(),
		inputTokens: integer('input_tokens').notNull(),
		outputTokens: integer('output_tokens').notNull(),
		/** What producing the answer cost (without prompt caching): each hit saves this. */
		costUsd: doublePrecision('cost_usd').notNull(),
		hits: integer('hits').notNull().default(0),
		lastHitAt: timestamp('last_hit_at', { withTimezone: true }),
		expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
		createdAt: createdAt()
	},
	(t) => [
		index('response_cache_lesson_id_idx').on(t.lessonId),
		index('response_cache_expires_at_idx').on(t.expiresAt)
	]
);
export type ResponseCacheRow = InferSelectModel<typeof responseCache>;

/** Settings admins change at run time (budgets, routing, cache); the environment gives defaults. */
export const appSettings = pgTable('app_settings', {
	key: text('key').primaryKey(),
	value: jsonb('value').$type<unknown>().notNull(),
	updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
	updatedAt: updatedAt()
});

/** One row per budget threshold crossed per day: the unique key makes the alert fire once. */
export const budgetAlerts = pgTable(
	'budget_alerts',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		/** 'global' or the user's id */
		subject: text('subject').notNull(),
		userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
		day: date('day').notNull(),
		/** warning | limit */
		threshold: text('threshold').notNull(),
		spentUsd: doublePrecision('spent_usd').notNull(),
		limitUsd: doublePrecision('limit_usd').notNull(),
		/** Where it was sent (email, webhook) and what failed. */
		delivery: jsonb('delivery')
			.$type<{ channel: string; ok: boolean; error?: string }[]>()
			.notNull()
			.default([]),
		createdAt: createdAt()
	},
	(t) => [
		uniqueIndex('budget_alerts_subject_day_threshold_key').on(t.subject, t.day, t.threshold),
		index('budget_alerts_created_at_idx').on(t.createdAt)
	]
);
export type BudgetAlert = InferSelectModel<typeof budgetAlerts>;

/**
 * The budget ledger: dollars committed per subject ('global' or a user id) per UTC day. A call
 * adds its worst-case cost here before it starts (refused if that would cross the limit) and
 * corrects it to the real cost when it ends, so concurrent calls on any replica cannot overrun a
 * budget together.
 */
export const spendDaily = pgTable(
	'spend_daily',
	{
		subject: text('subject').notNull(),
		day: date('day').notNull(),
		usd: doublePrecision('usd').notNull().default(0),
		calls: integer('calls').notNull().default(0)
	},
	(t) => [primaryKey({ columns: [t.subject, t.day] })]
);
