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
	bigserial
} from 'drizzle-orm/pg-core';
import type { InferSelectModel } from 'drizzle-orm';
import { sql } from 'drizzle-orm';

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
