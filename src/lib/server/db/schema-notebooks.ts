/**
 * Module notebooks for the Python lab (/jupyterlite/): the course version of each module's notebook
 * (imported from content packs) and each student's own copy, saved from the lab. A course update
 * only ever replaces the course version; a student's copy stays until they reset it.
 */
import { pgTable, uuid, text, timestamp, jsonb, index, uniqueIndex } from 'drizzle-orm/pg-core';
import type { InferSelectModel } from 'drizzle-orm';
import { modules, users } from './schema-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/** An nbformat 4 notebook as JSON (validated by src/lib/server/learn/notebooks.ts). */
export type NotebookJson = Record<string, unknown> & { nbformat: 4; cells: unknown[] };

/** The course's notebook of a module (at most one per module). */
export const moduleNotebooks = pgTable('module_notebooks', {
	moduleId: uuid('module_id')
		.primaryKey()
		.references(() => modules.id, { onDelete: 'cascade' }),
	content: jsonb('content').$type<NotebookJson>().notNull(),
	/** sha256 of the canonical JSON: tells a student's copy which version it started from. */
	hash: text('hash').notNull(),
	createdAt: createdAt(),
	updatedAt: updatedAt()
});
export type ModuleNotebook = InferSelectModel<typeof moduleNotebooks>;

/** A student's own copy of a module's notebook, created on their first save. */
export const studentNotebooks = pgTable(
	'student_notebooks',
	{
		id: uuid('id').primaryKey().defaultRandom(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		moduleId: uuid('module_id')
			.notNull()
			.references(() => modules.id, { onDelete: 'cascade' }),
		content: jsonb('content').$type<NotebookJson>().notNull(),
		/** The hash of the course version this copy started from. */
		baseHash: text('base_hash').notNull(),
		createdAt: createdAt(),
		updatedAt: updatedAt()
	},
	(t) => [
		uniqueIndex('student_notebooks_user_id_module_id_key').on(t.userId, t.moduleId),
		index('student_notebooks_module_id_idx').on(t.moduleId)
	]
);
export type StudentNotebook = InferSelectModel<typeof studentNotebooks>;
