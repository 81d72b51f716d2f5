import {
	pgTable,
	pgEnum,
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

/** Postgres full-text search vector (drizzle has no built-in column type for it). */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const role = pgEnum('role', ['student', 'admin']);

export const users = pgTable(
	'users',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		/** Stored lower-cased; uniqueness is on this column. */
		email: text('email').notNull(),
		displayName: text('display_name').notNull(),
		passwordHash: text('password_hash').notNull(),
		role: role('role').notNull().default('student'),
		/** Bumped by "log out everywhere" and password changes; access tokens carry it. */
		tokenVersion: integer('token_version').notNull().default(0),
		disabledAt: timestamp('disabled_at', { withTimezone: true }),
		createdAt: createdAt(),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [uniqueIndex('users_email_key').on(t.email), index('users_created_at_idx').on(t.createdAt)]
);
export type User = InferSelectModel<typeof users>;

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

export const conversations = pgTable(
	'conversations',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		title: text('title').notNull().default('New conversation'),
		/** What the student was looking at (lesson, exercise, code, last error), for the tutor. */
		context: jsonb('context').$type<Record<string, unknown>>(),
		/** Highest sequence number written to this conversation's event log. */
		lastSeq: integer('last_seq').notNull().default(0),
		/** The running generation; null when idle. Only its owner may append events. */
		generationId: uuid('generation_id'),
		leaseOwner: text('lease_owner'),
		leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
		createdAt: createdAt(),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		index('conversations_user_id_updated_at_idx').on(t.userId, t.updatedAt),
		index('conversations_lease_expires_at_idx').on(t.leaseExpiresAt)
	]
);
export type Conversation = InferSelectModel<typeof conversations>;

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
