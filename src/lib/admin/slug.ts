/**
 * A slug from a title, as the content forms fill it in: lower-case ASCII letters, digits and single
 * dashes (accents dropped), at most 80 characters, never ending in a dash.
 *
 * @example
 * slugify('Lists & Tuples: a first look'); // 'lists-tuples-a-first-look'
 */
export function slugify(title: string, max = 80): string {
	return title
		.normalize('NFKD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '')
		.slice(0, max)
		.replace(/-+$/, '');
}
