/**
 * The solution guard. Before a student has solved an exercise, the tutor's answer is checked
 * against the exercise's reference solution as it streams: text outside code blocks passes at
 * once, each fenced code block is held until it closes and is replaced by a notice when it (or the
 * code blocks of the answer so far, taken together) reproduces the solution.
 *
 * "Reproduces" compares Python tokens with comments and layout removed: the longest common
 * subsequence must cover most of the solution's tokens. Renamed variables are caught for solutions
 * long enough that an unrelated example cannot match by shape alone.
 *
 * @example
 * const events = guardSolution(provider.stream(request), exercise.solutionCode);
 */
import type { StreamEvent } from '#lib/server/ai/types.ts';

export const WITHHELD_NOTICE =
	'> **Code withheld.** This code would give away the solution to the exercise you are working on, so the tutor held it back. Try the hint, run your code, and ask about the step where you are stuck. Once your checks pass, the tutor can walk through a full solution with you.';

const KEEP = new Set(
	(
		'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield ' +
		'print len range input int float str bool list dict set tuple sum min max abs sorted reversed enumerate zip map filter round isinstance type open any all'
	).split(' ')
);

const TOKEN =
	/[A-Za-z_]\w*|\d+(?:\.\d+)?|"""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|==|!=|<=|>=|\*\*|\/\/|->|[-+*/%<>=()[\]{}:,.]/g;

/** Python-ish tokens of `code`, comments and blank space dropped, strings in one quote style. */
export function tokens(code: string): string[] {
	const withoutComments = code.replace(/(^|[^'"\w])#[^\n]*/g, '$1');
	return (withoutComments.match(TOKEN) ?? []).map((t) =>
		/^['"]/.test(t) ? `"${t.replace(/^("{3}|'{3}|"|')|("{3}|'{3}|"|')$/g, '')}"` : t
	);
}

function abstracted(list: string[]) {
	return list.map((t) => (/^[A-Za-z_]/.test(t) && !KEEP.has(t) ? 'ID' : t));
}

/** Solutions at least this long are also compared with identifiers renamed. */
const SHAPE_MIN_TOKENS = 25;
/** Caps the solution and the code compared with it: bounds the LCS work and fits its Uint16Array. */
const MAX_TOKENS = 4000;

/** `row` (the last LCS row of some code against `target`) extended by the tokens of `more`. */
function extendLcs(row: Uint16Array, target: string[], more: string[]): Uint16Array {
	const next = row.slice();
	for (const token of more) {
		let diagonal = 0;
		for (let j = 1; j <= target.length; j++) {
			const above = next[j]!;
			next[j] = token === target[j - 1] ? diagonal + 1 : Math.max(above, next[j - 1]!);
			diagonal = above;
		}
	}
	return next;
}

/**
 * How much of a solution some code covers: its token count and its last LCS rows against the
 * solution's tokens, exact and renamed. Adding code costs time in the new tokens only, so an
 * answer is judged block by block without going over the earlier blocks again.
 */
class Coverage {
	private constructor(
		private readonly solution: { exact: string[]; shape: string[] | null },
		readonly count: number,
		private readonly exact: Uint16Array,
		private readonly shape: Uint16Array | null
	) {}

	static of(solution: string): Coverage {
		const exact = tokens(solution).slice(0, MAX_TOKENS);
		const shape = exact.length >= SHAPE_MIN_TOKENS ? abstracted(exact) : null;
		const row = new Uint16Array(exact.length + 1);
		return new Coverage({ exact, shape }, 0, row, shape && row);
	}

	/** This code followed by `more`; tokens past MAX_TOKENS in all are not compared. */
	with(more: string[]): Coverage {
		const added = more.slice(0, MAX_TOKENS - this.count);
		if (!added.length) return this;
		const { exact, shape } = this.solution;
		return new Coverage(
			this.solution,
			this.count + added.length,
			extendLcs(this.exact, exact, added),
			shape && extendLcs(this.shape!, shape, abstracted(added))
		);
	}

	/** Whether the code reproduces the solution: long enough, and covering most of its tokens. */
	get reproduces(): boolean {
		const n = this.solution.exact.length;
		if (!this.longEnoughWith(0)) return false;
		return this.exact[n]! / n >= 0.8 || (this.shape !== null && this.shape[n]! / n >= 0.9);
	}

	/** Whether this code followed by `more` reproduces the solution; runs no LCS when too short. */
	reproducedBy(more: string[]): boolean {
		return this.longEnoughWith(more.length) && this.with(more).reproduces;
	}

	private longEnoughWith(more: number): boolean {
		const n = this.solution.exact.length;
		return n >= 4 && this.count + more >= Math.ceil(n * 0.6);
	}
}

/** Whether `candidate` reproduces `solution` closely enough to count as handing it over. */
export function reproducesSolution(candidate: string, solution: string): boolean {
	return Coverage.of(solution).reproducedBy(tokens(candidate));
}

const OPEN = /(^|\n)[ \t]*(```|~~~)[^\n]*\n/;
const CLOSE = /^[ \t]*(```|~~~)[ \t]*$/;

/** Wraps a provider stream so code that reproduces `solution` never reaches the student. */
export async function* guardSolution(
	source: AsyncIterable<StreamEvent>,
	solution: string,
	onWithheld?: () => void
): AsyncIterable<StreamEvent> {
	const none = Coverage.of(solution);
	let shown = none;
	let outside = '';
	// An open code block: its opening line, its complete lines so far, and the line arriving.
	let code = null as { fence: string; head: string; body: string; line: string } | null;

	function judge(block: string, body: string): string {
		const more = tokens(body);
		const withShown = shown.with(more);
		// Earlier code only adds to the match, so the block alone matters only once the cap cuts it.
		const cut = withShown.count - shown.count < more.length;
		if (withShown.reproduces || (cut && none.reproducedBy(more))) {
			onWithheld?.();
			return `\n${WITHHELD_NOTICE}\n`;
		}
		shown = withShown;
		return block;
	}

	/**
	 * Text that can be released once `text` arrives; keeps back what might still become a fence
	 * line. Only new text is searched, so each character is scanned a bounded number of times.
	 */
	function feed(text: string, final: boolean): string {
		let out = '';
		for (;;) {
			if (code) {
				// Only a complete line can close the block (or the last line, at the end).
				const newline = text.indexOf('\n');
				if (newline < 0) {
					code.line += text;
					if (!final) return out;
					const closed = CLOSE.exec(code.line)?.[1] === code.fence;
					const { head, body, line } = code;
					out += judge(head + body + line, closed ? body : body + line);
					code = null;
					return out;
				}
				const line = code.line + text.slice(0, newline);
				text = text.slice(newline + 1);
				if (CLOSE.exec(line)?.[1] === code.fence) {
					out += judge(`${code.head}${code.body}${line}\n`, code.body);
					code = null;
				} else {
					code.body += `${line}\n`;
					code.line = '';
				}
				continue;
			}
			// A held line can only turn into a fence line once its newline arrives.
			if (outside && !final && !text.includes('\n')) {
				outside += text;
				return out;
			}
			outside += text;
			const open = OPEN.exec(outside);
			if (open) {
				const start = open.index + open[1]!.length;
				const end = open.index + open[0].length;
				out += outside.slice(0, start);
				code = { fence: open[2]!, head: outside.slice(start, end), body: '', line: '' };
				text = outside.slice(end);
				outside = '';
				continue;
			}
			const lineStart = outside.lastIndexOf('\n') + 1;
			const tail = outside.slice(lineStart);
			const mayOpen = !final && /^[ \t]*(`|~)/.test(tail);
			out += mayOpen ? outside.slice(0, lineStart) : outside;
			outside = mayOpen ? tail : '';
			return out;
		}
	}

	for await (const event of source) {
		const text = feed(event.type === 'text' ? event.text : '', event.type !== 'text');
		if (text) yield { type: 'text', text };
		if (event.type !== 'text') yield event;
	}
	const text = feed('', true);
	if (text) yield { type: 'text', text };
}
