import * as v from 'valibot';
import * as admin from '#lib/server/practice/admin.ts';
import { KINDS } from '#lib/practice/question-fields.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const db = locals.services.database.db;
	const get = (name: string) => url.searchParams.get(name)?.trim() || undefined;
	const kind = get('kind');
	const topic = get('topic');
	const filter = {
		exam: get('exam')?.slice(0, 80),
		topic: topic && v.is(v.pipe(v.string(), v.uuid()), topic) ? topic : undefined,
		kind:
			kind && (KINDS as readonly string[]).includes(kind)
				? (kind as (typeof KINDS)[number])
				: undefined,
		q: get('q')?.slice(0, 100),
		page: Math.max(1, Number(get('page')) || 1)
	};
	const [list, topics] = await Promise.all([
		admin.listQuestions(db, filter),
		admin.examsAndTopics(db)
	]);
	return {
		filter: {
			exam: filter.exam ?? '',
			topic: filter.topic ?? '',
			kind: filter.kind ?? '',
			q: filter.q ?? ''
		},
		...list,
		rows: list.rows.map((r) => ({ ...r, prompt: r.prompt.split('\n')[0]!.slice(0, 140) })),
		topics
	};
};
