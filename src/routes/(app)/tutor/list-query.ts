import * as v from 'valibot';

const Query = v.object({
	q: v.optional(v.pipe(v.string(), v.maxLength(100)), ''),
	page: v.optional(
		v.pipe(v.string(), v.regex(/^\d{1,6}$/), v.transform(Number), v.minValue(1)),
		'1'
	)
});

/** Search text and page number from the URL; anything malformed means the first page, unfiltered. */
export function listQuery(url: URL): { q: string; page: number } {
	const parsed = v.safeParse(Query, Object.fromEntries(url.searchParams));
	return parsed.success ? parsed.output : { q: '', page: 1 };
}
