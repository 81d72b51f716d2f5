/**
 * What an LLM call costs: a built-in price table (US dollars per million tokens, list prices as of
 * late 2026) that admins can override per model in `model_prices`.
 *
 * A model id matches the longest table entry it starts with, so dated ids
 * (`claude-sonnet-4-5-20250929`) find their family. Local models (`openai-compatible`) and the
 * offline tutor cost nothing; an unknown model of a paid provider is priced like a mid-range model
 * rather than free, so budgets still hold until an admin adds its price.
 *
 * @example
 * const prices = await loadPrices(db);
 * costOf(prices.find('claude-sonnet-4-5'), { inputTokens: 2000, outputTokens: 300 }); // 0.0105
 */
import { eq } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { modelPrices } from '#lib/server/db/schema.ts';
import type { Usage } from '#lib/server/ai/types.ts';
import type { LlmProvider } from '#lib/server/config.ts';

export interface Price {
	inputPerMTok: number;
	outputPerMTok: number;
	/** Input read from the provider's prompt cache. */
	cachedInputPerMTok: number;
	/** Input written to the prompt cache (Anthropic: 1.25x input; OpenAI and Google: input). */
	cacheWritePerMTok: number;
}

const p = (input: number, output: number, cached: number, write = input): Price => ({
	inputPerMTok: input,
	outputPerMTok: output,
	cachedInputPerMTok: cached,
	cacheWritePerMTok: write
});

export const DEFAULT_PRICES: Record<string, Price> = {
	'claude-opus-4': p(15, 75, 1.5, 18.75),
	'claude-opus-4-5': p(5, 25, 0.5, 6.25),
	'claude-sonnet-4': p(3, 15, 0.3, 3.75),
	'claude-haiku-4': p(1, 5, 0.1, 1.25),
	'claude-3-5-haiku': p(0.8, 4, 0.08, 1),
	'gpt-5': p(1.25, 10, 0.125),
	'gpt-5-mini': p(0.25, 2, 0.025),
	'gpt-5-nano': p(0.05, 0.4, 0.005),
	'gpt-4.1': p(2, 8, 0.5),
	'gpt-4.1-mini': p(0.4, 1.6, 0.1),
	'gpt-4.1-nano': p(0.1, 0.4, 0.025),
	'gpt-4o': p(2.5, 10, 1.25),
	'gpt-4o-mini': p(0.15, 0.6, 0.075),
	'gemini-2.5-pro': p(1.25, 10, 0.31),
	'gemini-2.5-flash': p(0.3, 2.5, 0.075),
	'gemini-2.5-flash-lite': p(0.1, 0.4, 0.025),
	// The mock provider is priced like Claude Sonnet and Haiku so that tests and benchmarks
	// produce realistic dollar figures.
	'mock-tutor': p(3, 15, 0.3, 3.75),
	'mock-tutor-mini': p(1, 5, 0.1, 1.25)
};

/** The price used for an unknown model of a paid provider. */
export const FALLBACK_PRICE: Price = p(3, 15, 0.3, 3.75);
const FREE: Price = p(0, 0, 0, 0);

export interface PriceRow extends Price {
	model: string;
	/** Set by an admin (else the built-in price). */
	custom: boolean;
}

export interface PriceTable {
	rows: PriceRow[];
	/** The price of a model as called through `provider`. */
	find(model: string, provider?: LlmProvider | string): Price;
}

/** Longest table entry `model` starts with (`gpt-4.1-mini-2025` → `gpt-4.1-mini`). */
function lookup(rows: PriceRow[], model: string): PriceRow | undefined {
	const id = model.toLowerCase();
	let best: PriceRow | undefined;
	for (const row of rows)
		if (
			(id === row.model || id.startsWith(row.model + '-') || id.startsWith(row.model + '@')) &&
			(!best || row.model.length > best.model.length)
		)
			best = row;
	return best;
}

export function priceTable(overrides: PriceRow[]): PriceTable {
	const rows = new Map<string, PriceRow>();
	for (const [model, price] of Object.entries(DEFAULT_PRICES))
		rows.set(model, { model, ...price, custom: false });
	for (const row of overrides) rows.set(row.model, { ...row, custom: true });
	const list = [...rows.values()].sort((a, b) => a.model.localeCompare(b.model));
	return {
		rows: list,
		find(model, provider) {
			if (provider === 'offline') return FREE;
			const row = lookup(list, model);
			if (row) return row;
			return provider === 'openai-compatible' ? FREE : FALLBACK_PRICE;
		}
	};
}

/**
 * The dollars of one call. `inputTokens` is the whole prompt; the cached and cache-write parts of
 * it are billed at their own rates.
 */
export function costOf(price: Price, usage: Usage): number {
	const cached = usage.cachedInputTokens ?? 0;
	const written = usage.cacheWriteTokens ?? 0;
	const plain = Math.max(0, usage.inputTokens - cached - written);
	return (
		(plain * price.inputPerMTok +
			cached * price.cachedInputPerMTok +
			written * price.cacheWritePerMTok +
			usage.outputTokens * price.outputPerMTok) /
		1_000_000
	);
}

/** The same call without prompt caching: every input token at the plain rate. */
export function uncachedCostOf(price: Price, usage: Usage): number {
	return (usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1e6;
}

let cached: { table: PriceTable; at: number } | null = null;
const CACHE_MS = 30_000;

/** The price table with admins' overrides; read at most every 30 s (and after every change here). */
export async function loadPrices(db: Db, options: { fresh?: boolean } = {}): Promise<PriceTable> {
	if (!options.fresh && cached && Date.now() - cached.at < CACHE_MS) return cached.table;
	const rows = await db.select().from(modelPrices);
	const table = priceTable(
		rows.map((r) => ({
			model: r.model,
			inputPerMTok: r.inputPerMTok,
			outputPerMTok: r.outputPerMTok,
			cachedInputPerMTok: r.cachedInputPerMTok,
			cacheWritePerMTok: r.cacheWritePerMTok,
			custom: true
		}))
	);
	cached = { table, at: Date.now() };
	return table;
}

export async function listPrices(db: Db): Promise<PriceRow[]> {
	return (await loadPrices(db, { fresh: true })).rows;
}

/** Sets (or adds) a model's price. */
export async function setPrice(db: Db, row: Price & { model: string }, actorId: string | null) {
	const values = {
		model: row.model.trim().toLowerCase(),
		inputPerMTok: row.inputPerMTok,
		outputPerMTok: row.outputPerMTok,
		cachedInputPerMTok: row.cachedInputPerMTok,
		cacheWritePerMTok: row.cacheWritePerMTok,
		updatedBy: actorId
	};
	await db
		.insert(modelPrices)
		.values(values)
		.onConflictDoUpdate({ target: modelPrices.model, set: { ...values, updatedAt: new Date() } });
	cached = null;
}

/** Drops an admin's price: the built-in one (if any) applies again. */
export async function resetPrice(db: Db, model: string) {
	await db.delete(modelPrices).where(eq(modelPrices.model, model.trim().toLowerCase()));
	cached = null;
}
