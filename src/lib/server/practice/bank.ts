/**
 * The question bank's files: the exam files in `content/questions/` (YAML or JSON, one exam with
 * its topics and questions each), read and checked as a whole, and loaded on first start.
 *
 * @example
 * const files = await readBankDir('content/questions'); // throws naming every problem
 * await importBank(db, files); // { exams: 2, questions: 160 }
 */
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import * as v from 'valibot';
import { parse as parseYaml } from 'yaml';
import type { Db } from '#lib/server/db/index.ts';
import { exams, topics } from '#lib/server/db/schema.ts';
import { logger } from '#lib/server/log.ts';
import { upsertQuestions } from './question-import';
import { Required, Slug, Text } from '#lib/practice/question-fields.ts';
import { checkRows, type QuestionInput } from './question-input';

const ExamFile = v.object({
	exam: v.object({
		slug: Slug,
		title: Required(200),
		description: v.optional(Text(2000), ''),
		mockQuestions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200)), 20),
		mockMinutes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(600)), 30),
		passPercent: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100)), 70)
	}),
	topics: v.pipe(
		v.array(v.object({ slug: Slug, title: Required(200), area: Slug })),
		v.minLength(1)
	),
	questions: v.array(v.record(v.string(), v.unknown()))
});
export type ExamFile = {
	exam: v.InferOutput<typeof ExamFile>['exam'];
	topics: v.InferOutput<typeof ExamFile>['topics'];
	questions: QuestionInput[];
};

/** Reads and checks every `*.yaml` (or `.json`) exam file in a folder; throws naming each problem. */
export async function readBankDir(dir: string): Promise<ExamFile[]> {
	const names = (await readdir(dir)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
	const files: ExamFile[] = [];
	const problems: string[] = [];
	for (const name of names) {
		const text = await readFile(path.join(dir, name), 'utf8');
		let data: unknown;
		try {
			data = name.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
		} catch (error) {
			problems.push(`${name}: ${(error as Error).message}`);
			continue;
		}
		const parsed = v.safeParse(ExamFile, data);
		if (!parsed.success) {
			problems.push(...parsed.issues.map((i) => `${name}: ${v.getDotPath(i)}: ${i.message}`));
			continue;
		}
		const f = parsed.output;
		const raw = f.questions.map((q) => ({ exam: f.exam.slug, ...q }));
		const checked = checkRows(raw);
		if (!checked.ok) {
			problems.push(
				...checked.errors.map((e) => `${name}: question ${e.row} (${e.ref}): ${e.message}`)
			);
			continue;
		}
		const slugs = new Set(f.topics.map((t) => t.slug));
		for (const q of checked.rows)
			if (!slugs.has(q.topic)) problems.push(`${name}: ${q.ref}: unknown topic "${q.topic}"`);
		files.push({ exam: f.exam, topics: f.topics, questions: checked.rows });
	}
	if (problems.length) throw new Error(`question bank is invalid:\n  ${problems.join('\n  ')}`);
	return files;
}

/** Writes exam files (exams and topics by slug, questions by ref) in one transaction. */
export async function importBank(db: Db, files: ExamFile[]) {
	let count = 0;
	await db.transaction(async (tx) => {
		for (const [i, f] of files.entries()) {
			const examValues = { ...f.exam, position: i, updatedAt: new Date() };
			const [exam] = await tx
				.insert(exams)
				.values(examValues)
				.onConflictDoUpdate({ target: exams.slug, set: examValues })
				.returning({ id: exams.id });
			const topicIds = new Map<string, string>();
			for (const [j, t] of f.topics.entries()) {
				const [topic] = await tx
					.insert(topics)
					.values({ examId: exam!.id, ...t, position: j })
					.onConflictDoUpdate({
						target: [topics.examId, topics.slug],
						set: { title: t.title, area: t.area, position: j }
					})
					.returning({ id: topics.id });
				topicIds.set(t.slug, topic!.id);
			}
			await upsertQuestions(tx, f.questions, (q) => ({
				id: topicIds.get(q.topic)!,
				examId: exam!.id
			}));
			count += f.questions.length;
		}
	});
	return { exams: files.length, questions: count };
}

/**
 * Loads `content/questions/` the first time a server starts with no exams. Replicas starting
 * together take turns on an advisory lock, and only the first finds the bank empty.
 */
export async function seedQuestionBank(db: Db, dir: string) {
	if (!dir || !existsSync(dir)) return null;
	const files = await readBankDir(dir);
	return db.transaction(async (tx) => {
		await tx.execute(sql`select pg_advisory_xact_lock(72011006)`);
		const [any] = await tx.select({ id: exams.id }).from(exams).limit(1);
		if (any) return null;
		const summary = await importBank(tx, files);
		logger().info(summary, 'question bank loaded');
		return summary;
	});
}
