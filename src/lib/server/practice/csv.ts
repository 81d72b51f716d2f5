/**
 * RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. Used for the question
 * bank's import and export.
 *
 * @example
 * const rows = parseCsv('a,b\n1,"x, y"\n'); // [['a', 'b'], ['1', 'x, y']]
 */

/** Rows of fields; a trailing line break does not make an empty last row. */
export function parseCsv(text: string): string[][] {
	const rows: string[][] = [];
	let row: string[] = [];
	let field = '';
	let quoted = false;
	let i = 0;
	const src = text.replace(/^\uFEFF/, '');
	while (i < src.length) {
		const ch = src[i]!;
		if (quoted) {
			if (ch === '"') {
				if (src[i + 1] === '"') {
					field += '"';
					i += 2;
					continue;
				}
				quoted = false;
			} else field += ch;
			i++;
			continue;
		}
		if (ch === '"' && field === '') quoted = true;
		else if (ch === ',') {
			row.push(field);
			field = '';
		} else if (ch === '\n' || ch === '\r') {
			if (ch === '\r' && src[i + 1] === '\n') i++;
			row.push(field);
			rows.push(row);
			row = [];
			field = '';
		} else field += ch;
		i++;
	}
	if (field !== '' || row.length) {
		row.push(field);
		rows.push(row);
	}
	return rows;
}

function cell(value: string) {
	return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function formatCsv(rows: string[][]): string {
	return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
