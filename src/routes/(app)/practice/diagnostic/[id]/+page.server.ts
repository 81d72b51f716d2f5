import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as diagnostic from '#lib/server/practice/diagnostic.ts';
import { Given } from '#lib/server/practice/grade.ts';
import { questionView } from '#lib/server/practice/view.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

async function own(locals: App.Locals, id: string) {
	if (!v.is(v.pipe(v.string(), v.uuid()), id)) error(404, 'This diagnostic does not exist.');
	const found = await diagnostic.getDiagnostic(locals.services.database.db, locals.user!.id, id);
	if (!found) error(404, 'This diagnostic does not exist.');
	return found;
}

export const load: PageServerLoad = async ({ locals, params }) => {
	const a = await own(locals, params.id);
	const base = {
		id: a.id,
		area: a.area,
		areaTitle: diagnostic.areaTitle(a.area),
		length: diagnostic.DIAGNOSTIC_LENGTH,
		thresholds: diagnostic.LEVEL_THRESHOLDS
	};
	if (a.finishedAt)
		return {
			...base,
			state: 'done' as const,
			level: a.level!,
			score: a.score ?? 0,
			steps: a.steps.map((s) => ({ difficulty: s.difficulty, correct: s.correct }))
		};
	const step = a.steps[a.steps.length - 1]!;
	const [row] = await diagnostic.questionsByIds(locals.services.database.db, [step.questionId]);
	if (!row) error(404, 'This diagnostic lost its question; start a new one.');
	return {
		...base,
		state: 'running' as const,
		step: a.steps.length,
		question: questionView(row.question, row.topic)
	};
};

export const actions: Actions = {
	answer: async ({ locals, params, request }) => {
		const a = await own(locals, params.id);
		if (a.finishedAt) redirect(303, `/practice/diagnostic/${a.id}`);
		const form = await readForm(request);
		if (!form.ok) return fail(form.status, { message: form.message });
		let given: unknown;
		try {
			given = JSON.parse(String(form.data.get('given') ?? ''));
		} catch {
			return fail(400, { message: 'Your answer could not be read. Please answer again.' });
		}
		const parsed = v.safeParse(Given, given);
		const timeMs = Number(form.data.get('timeMs'));
		if (!parsed.success || !Number.isFinite(timeMs) || timeMs < 0)
			return fail(400, { message: 'Your answer could not be read. Please answer again.' });
		await diagnostic.answerDiagnostic(
			locals.services.database.db,
			locals.user!.id,
			a.id,
			parsed.output,
			Math.min(timeMs, 86_400_000)
		);
		redirect(303, `/practice/diagnostic/${a.id}`);
	}
};
