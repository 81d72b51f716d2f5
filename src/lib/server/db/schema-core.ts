/**
 * The tables the other schema files point their foreign keys at: users, course modules and lessons,
 * and tutor conversations. They live here, not in schema.ts, so that schema-practice, -notebooks and
 * -cost import them without an import cycle; schema.ts re-exports everything.
 */
import {
	pgTable,
	pgEnum,
	uuid,
	text,
	integer,
	timestamp,
	jsonb,
	index,
	uniqueIndex
} from 'drizzle-orm/pg-core';
import type { InferSelectModel } from 'drizzle-orm';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const role = pgEnum('role', ['student', 'admin']);

export const users = pgTable(
	'users',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		/** Stored lower-cased; uniqueness is on this column. */
		email: text('email').notNull(),
		displayName: text('display_name').notNull(),
		/** Null for an account that signs in only through single sign-on. */
		passwordHash: text('password_hash'),
		role: role('role').notNull().default('student'),
		/** Bumped by "log out everywhere" and password changes; access tokens carry it. */
		tokenVersion: integer('token_version').notNull().default(0),
		disabledAt: timestamp('disabled_at', { withTimezone: true }),
		/** When the user proved the address: a verification or reset link, or a provider's verified email. */
		emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true }),
		createdAt: createdAt(),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		uniqueIndex('users_email_key').on(t.email),
		index('users_created_at_idx').on(t.createdAt),
		// The admin's search matches any part of an email or a name (ILIKE '%q%').
		index('users_email_trgm_idx').using('gin', t.email.op('gin_trgm_ops')),
		index('users_display_name_trgm_idx').using('gin', t.displayName.op('gin_trgm_ops'))
	]
);
export type User = InferSelectModel<typeof users>;

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

export type ContentStatus = 'draft' | 'published';

/** A learning module: ordered lessons on one subject. `slug` names it in URLs and content packs. */
export const modules = pgTable(
	'modules',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		slug: text('slug').notNull(),
		title: text('title').notNull(),
		summary: text('summary').notNull().default(''),
		/** Optional introduction (markdown) shown on the module page. */
		body: text('body').notNull().default(''),
		position: integer('position').notNull().default(0),
		status: text('status').$type<ContentStatus>().notNull().default('draft'),
		/** The content pack it was imported from, if any. */
		pack: text('pack'),
		createdAt: createdAt(),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [uniqueIndex('modules_slug_key').on(t.slug), index('modules_position_idx').on(t.position)]
);
export type Module = InferSelectModel<typeof modules>;

export const lessons = pgTable(
	'lessons',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		moduleId: uuid('module_id')
			.notNull()
			.references(() => modules.id, { onDelete: 'cascade' }),
		slug: text('slug').notNull(),
		title: text('title').notNull(),
		summary: text('summary').notNull().default(''),
		/** The lesson text, markdown with fenced code examples. */
		body: text('body').notNull().default(''),
		minutes: integer('minutes').notNull().default(10),
		position: integer('position').notNull().default(0),
		status: text('status').$type<ContentStatus>().notNull().default('draft'),
		createdAt: createdAt(),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
	},
	(t) => [
		uniqueIndex('lessons_module_id_slug_key').on(t.moduleId, t.slug),
		index('lessons_module_id_position_idx').on(t.moduleId, t.position)
	]
);
export type Lesson = InferSelectModel<typeof lessons>;
