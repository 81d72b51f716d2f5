/**
 * Form actions of the budgets page: change the cost settings, set a model's price, and drop an
 * admin's price so the built-in one applies again. A bad form answers 400 with a message per
 * field and keeps what was typed; each change writes an audit entry with what changed.
 */
import { fail, type RequestEvent } from '@sveltejs/kit';
import * as v from 'valibot';
import { readForm } from '#lib/server/http/forms.ts';
import * as pricing from '#lib/server/cost/pricing.ts';
import {
	CostSettingsForm,
	fromForm,
	getCostSettings,
	updateCostSettings,
	type CostSettings
} from '#lib/server/cost/settings.ts';
import * as audit from '#lib/server/audit.ts';

/** The first message per field of a failed parse. */
function fieldErrors(issues: v.BaseIssue<unknown>[]) {
	const errors: Record<string, string> = {};
	for (const issue of issues) {
		const key = v.getDotPath(issue) ?? 'form';
		errors[key] ??= issue.message;
	}
	return errors;
}

const text = (form: FormData, name: string) => {
	const value = form.get(name);
	return typeof value === 'string' ? value : undefined;
};

export async function settings(event: RequestEvent) {
	const form = await readForm(event.request);
	if (!form.ok) return fail(form.status, { form: 'settings', message: form.message });
	const names = Object.keys(CostSettingsForm.entries) as (keyof typeof CostSettingsForm.entries)[];
	const raw = Object.fromEntries(names.map((n) => [n, text(form.data, n)]));
	const parsed = v.safeParse(CostSettingsForm, raw);
	if (!parsed.success)
		return fail(400, {
			form: 'settings',
			message: 'Some settings need fixing.',
			errors: fieldErrors(parsed.issues),
			values: raw
		});
	const { config, database } = event.locals.services;
	const db = database.db;
	const before = await getCostSettings(db, { fresh: true, base: config.cost });
	const after = await updateCostSettings(
		db,
		fromForm(parsed.output),
		event.locals.user!.id,
		config.cost
	);
	const changed = (Object.keys(after) as (keyof CostSettings)[]).filter(
		(k) => before[k] !== after[k]
	);
	if (changed.length)
		await audit.recordAction(db, event, 'cost.settings_update', null, {
			changed: Object.fromEntries(changed.map((k) => [k, { from: before[k], to: after[k] }]))
		});
	return {
		form: 'settings',
		done: changed.length
			? 'Settings saved. Every server uses them within seconds.'
			: 'Nothing changed.'
	};
}

const perMTok = (label: string) =>
	v.pipe(
		v.string(),
		v.trim(),
		v.regex(/^\d+(\.\d{1,6})?$/, `${label}: dollars per million tokens, like 0.15`),
		v.transform(Number),
		v.maxValue(10_000, `${label} must be at most 10000`)
	);

const PriceForm = v.object({
	model: v.pipe(
		v.string(),
		v.trim(),
		v.toLowerCase(),
		v.regex(/^[a-z0-9][a-z0-9._:/@-]{0,99}$/, 'A model id: letters, digits and . _ : / @ -')
	),
	inputPerMTok: perMTok('Input'),
	outputPerMTok: perMTok('Output'),
	cachedInputPerMTok: perMTok('Cached input'),
	cacheWritePerMTok: perMTok('Cache write')
});

export async function price(event: RequestEvent) {
	const form = await readForm(event.request);
	if (!form.ok) return fail(form.status, { form: 'price', message: form.message });
	const names = Object.keys(PriceForm.entries) as (keyof typeof PriceForm.entries)[];
	const raw = Object.fromEntries(names.map((n) => [n, text(form.data, n)]));
	const parsed = v.safeParse(PriceForm, raw);
	if (!parsed.success) {
		const errors = fieldErrors(parsed.issues);
		return fail(400, {
			form: 'price',
			model: raw.model ?? '',
			message: Object.values(errors).join(' '),
			errors,
			values: raw
		});
	}
	const { model, ...rates } = parsed.output;
	const db = event.locals.services.database.db;
	await pricing.setPrice(db, parsed.output, event.locals.user!.id);
	await audit.recordAction(db, event, 'cost.price_set', model, rates);
	return { form: 'price', model, done: `Saved the price of ${model}.` };
}

export async function resetPrice(event: RequestEvent) {
	const form = await readForm(event.request);
	if (!form.ok) return fail(form.status, { form: 'price', message: form.message });
	const model = v.safeParse(PriceForm.entries.model, text(form.data, 'model'));
	if (!model.success) return fail(400, { form: 'price', message: 'That request named no model.' });
	const db = event.locals.services.database.db;
	await pricing.resetPrice(db, model.output);
	await audit.recordAction(db, event, 'cost.price_reset', model.output);
	return {
		form: 'price',
		model: model.output,
		done: `${model.output} uses the built-in price again (or the default for unknown models).`
	};
}

export const actions = { settings, price, resetPrice };
