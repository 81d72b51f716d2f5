/**
 * Valibot pieces for environment variables, which are all strings: whole numbers in a range,
 * dollar amounts, booleans spelled several ways and comma-separated lists.
 *
 * @example
 * const Schema = v.object({ PORT: int(3000, 1, 65535), DEBUG: bool(false), HOSTS: list });
 */
import * as v from 'valibot';

export const optionalString = v.optional(v.pipe(v.string(), v.trim()));

export const int = (fallback: number, min: number, max: number) =>
	v.optional(
		v.pipe(
			v.string(),
			v.trim(),
			v.regex(/^\d+$/, 'must be a whole number'),
			v.transform(Number),
			v.minValue(min, `must be at least ${min}`),
			v.maxValue(max, `must be at most ${max}`)
		),
		String(fallback)
	);

/** A whole number with no default: for old names kept as aliases of newer settings. */
export const optionalInt = (min: number, max: number) =>
	v.optional(
		v.pipe(
			v.string(),
			v.trim(),
			v.regex(/^\d+$/, 'must be a whole number'),
			v.transform(Number),
			v.minValue(min, `must be at least ${min}`),
			v.maxValue(max, `must be at most ${max}`)
		)
	);

/** Dollars, like `0.5`; 0 turns the limit off. */
export const usd = (fallback: number) =>
	v.optional(
		v.pipe(
			v.string(),
			v.trim(),
			v.regex(/^\d+(\.\d+)?$/, 'must be an amount in dollars, like 0.50'),
			v.transform(Number),
			v.maxValue(1_000_000, 'must be at most 1000000')
		),
		String(fallback)
	);

export const bool = (fallback: boolean) =>
	v.pipe(
		v.optional(v.string(), String(fallback)),
		v.trim(),
		v.toLowerCase(),
		v.regex(/^(true|false|1|0|yes|no|on|off)$/, 'must be true or false'),
		v.transform((s) => ['true', '1', 'yes', 'on'].includes(s))
	);

export const list = v.pipe(
	v.optional(v.string(), ''),
	v.transform((s) =>
		s
			.split(',')
			.map((x) => x.trim())
			.filter(Boolean)
	)
);
