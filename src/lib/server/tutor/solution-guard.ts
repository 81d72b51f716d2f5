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
import type { StreamEvent } from '../ai/types';

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

function lcs(a: string[], b: string[]): number {
	if (!a.length || !b.length) return 0;
	let prev = new Uint16Array(b.length + 1);
	let cur = new Uint16Array(b.length + 1);
	for (let i = 1; i <= a.length; i++) {
		for (let j = 1; j <= b.length; j++)
			cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
		[prev, cur] = [cur, prev];
	}
	return prev[b.length]!;
}

/** Solutions at least this long are also compared with identifiers renamed. */
const SHAPE_MIN_TOKENS = 25;
const MAX_TOKENS = 4000;

/** Whether `candidate` reproduces `solution` closely enough to count as handing it over. */
export function reproducesSolution(candidate: string, solution: string): boolean {
	const s = tokens(solution).slice(0, MAX_TOKENS);
	const c = tokens(candidate).slice(0, MAX_TOKENS);
	if (s.length < 4 || c.length < Math.ceil(s.length * 0.6)) return false;
	if (lcs(s, c) / s.length >= 0.8) return true;
	return s.length >= SHAPE_MIN_TOKENS && lcs(abstracted(s), abstracted(c)) / s.length >= 0.9;
}

const OPEN = /(^|\n)[ \t]*(```|~~~)[^\n]*\n/;

/** Wraps a provider stream so code that reproduces `solution` never reaches the student. */
export async function* guardSolution(
	source: AsyncIterable<StreamEvent>,
	solution: string,
	onWithheld?: () => void
): AsyncIterable<StreamEvent> {
	let outside = '';
	let code = null as { fence: string; text: string } | null;
	let shown = '';

	function judge(block: string, body: string): string {
		if (reproducesSolution(body, solution) || reproducesSolution(`${shown}\n${body}`, solution)) {
			onWithheld?.();
			return `\n${WITHHELD_NOTICE}\n`;
		}
		shown += `\n${body}`;
		return block;
	}

	/** Text that can be released now; keeps back what might still become a fence line. */
	function drain(final: boolean): string {
		let out = '';
		for (;;) {
			if (!code) {
				const open = OPEN.exec(outside);
				if (open) {
					const start = open.index + open[1]!.length;
					out += outside.slice(0, start);
					code = { fence: open[2]!, text: outside.slice(start) };
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
			const firstNewline = code.text.indexOf('\n');
			const close = new RegExp(`\\n[ \\t]*${code.fence === '```' ? '```' : '~~~'}[ \\t]*(\\n|$)`);
			const rest = code.text.slice(firstNewline);
			const m = close.exec(rest);
			if (m && (m[1] === '\n' || final)) {
				const end = firstNewline + m.index + m[0].length;
				const block = code.text.slice(0, end);
				const body = code.text.slice(firstNewline + 1, firstNewline + m.index + 1);
				out += judge(block, body);
				outside = code.text.slice(end);
				code = null;
				continue;
			}
			if (final) {
				out += judge(code.text, code.text.slice(firstNewline + 1));
				code = null;
			}
			return out;
		}
	}

	for await (const event of source) {
		if (event.type === 'text') {
			if (code) code.text += event.text;
			else outside += event.text;
			const text = drain(false);
			if (text) yield { type: 'text', text };
		} else {
			const text = drain(true);
			if (text) yield { type: 'text', text };
			yield event;
		}
	}
	const text = drain(true);
	if (text) yield { type: 'text', text };
}
