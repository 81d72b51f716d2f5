import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '#lib/server/ai/types.ts';
import { guardSolution, reproducesSolution, tokens, WITHHELD_NOTICE } from './solution-guard';

const SOLUTION = `def count_vowels(text):
    """Counts the vowels in text."""
    total = 0
    for letter in text.lower():
        if letter in "aeiou":
            total += 1
    return total
`;

/** A longer reference solution, about 360 tokens: loops, conditionals and a summary. */
const LONG_SOLUTION = `def grade_report(students, passing=50):
    """Summarises marks per student and for the class."""
    report = {}
    best_name = None
    best_average = -1
    failing = []
    for name, marks in students.items():
        if not marks:
            report[name] = {"average": 0, "grade": "none"}
            failing.append(name)
            continue
        total = 0
        highest = marks[0]
        for mark in marks:
            total += mark
            if mark > highest:
                highest = mark
        average = round(total / len(marks), 1)
        if average >= 85:
            grade = "A"
        elif average >= 70:
            grade = "B"
        elif average >= passing:
            grade = "C"
        else:
            grade = "F"
            failing.append(name)
        report[name] = {"average": average, "grade": grade, "highest": highest}
        if average > best_average:
            best_average = average
            best_name = name
    class_total = 0
    counted = 0
    for entry in report.values():
        if entry["grade"] != "none":
            class_total += entry["average"]
            counted += 1
    class_average = class_total / counted if counted else 0
    counts = {"A": 0, "B": 0, "C": 0, "F": 0}
    for entry in report.values():
        grade = entry["grade"]
        if grade in counts:
            counts[grade] += 1
    spread = 0
    if best_average >= 0 and counted:
        spread = best_average - class_average
    summary = []
    for name in sorted(report):
        entry = report[name]
        line = name + ": " + str(entry["average"]) + " (" + entry["grade"] + ")"
        if name in failing:
            line += " needs help"
        summary.append(line)
    return {
        "report": report,
        "best": best_name,
        "class_average": round(class_average, 1),
        "failing": sorted(failing),
        "summary": summary,
        "counts": counts,
        "spread": round(spread, 1),
    }
`;

async function run(chunks: string[], solution = SOLUTION) {
	async function* source(): AsyncIterable<StreamEvent> {
		for (const text of chunks) yield { type: 'text', text };
		yield { type: 'done' };
	}
	let withheld = 0;
	const out: string[] = [];
	for await (const e of guardSolution(source(), solution, () => withheld++))
		if (e.type === 'text') out.push(e.text);
	return { text: out.join(''), pieces: out, withheld };
}

/** CPU milliseconds (user and system, not wall time) that `work` takes. */
async function cpuMs(work: () => Promise<unknown>) {
	const before = process.cpuUsage();
	await work();
	const { user, system } = process.cpuUsage(before);
	return (user + system) / 1000;
}

/** The bodies of the fenced code blocks in `text`, joined. */
function codeIn(text: string) {
	return [...text.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

/** Splits text into small chunks, the way a provider streams it. */
function chunked(text: string, size = 3) {
	const parts: string[] = [];
	for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
	return parts;
}

describe('reproducesSolution', () => {
	it('catches the solution itself, reformatted, commented or with renamed variables', () => {
		expect(reproducesSolution(SOLUTION, SOLUTION)).toBe(true);
		expect(
			reproducesSolution(
				`def count_vowels(text):\n  total=0 # start\n  for letter in text.lower():\n    if letter in "aeiou": total += 1\n  return total`,
				SOLUTION
			)
		).toBe(true);
		expect(
			reproducesSolution(
				`def count_vowels(s):\n    n = 0\n    for ch in s.lower():\n        if ch in "aeiou":\n            n += 1\n    return n`,
				SOLUTION
			)
		).toBe(true);
	});

	it('lets unrelated examples and small fragments through', () => {
		expect(reproducesSolution(`for letter in "abc":\n    print(letter)`, SOLUTION)).toBe(false);
		expect(reproducesSolution(`total += 1`, SOLUTION)).toBe(false);
		expect(
			reproducesSolution(`def add(a, b):\n    return a + b`, `def area(w, h):\n    return w * h`)
		).toBe(false);
	});
});

describe('guardSolution', () => {
	it('streams prose and harmless code unchanged, however the chunks fall', async () => {
		const answer =
			'Think about it this way:\n\n```python\nfor letter in "hi":\n    print(letter)\n```\n\nWhat does `in` check?';
		for (const size of [1, 2, 5, 40]) {
			const { text, withheld } = await run(chunked(answer, size));
			expect(text).toBe(answer);
			expect(withheld).toBe(0);
		}
	});

	it('replaces a block that reproduces the solution with the notice', async () => {
		const answer = `Here it is:\n\n\`\`\`python\n${SOLUTION}\`\`\`\n\nDoes that help?`;
		for (const size of [1, 4, 1000]) {
			const { text, withheld } = await run(chunked(answer, size));
			expect(text).not.toContain('total += 1');
			expect(text).toContain(WITHHELD_NOTICE);
			expect(text.startsWith('Here it is:')).toBe(true);
			expect(text.endsWith('Does that help?')).toBe(true);
			expect(withheld).toBe(1);
		}
	});

	it('catches a solution handed over in pieces and an unclosed final block', async () => {
		const pieces = await run([
			'Start with:\n```python\ndef count_vowels(text):\n    total = 0\n```\nthen:\n```python\n',
			'    for letter in text.lower():\n        if letter in "aeiou":\n            total += 1\n    return total\n```\n'
		]);
		expect(pieces.text).toContain('def count_vowels');
		expect(pieces.text).not.toContain('total += 1');
		expect(pieces.withheld).toBe(1);
		const unclosed = await run(['Here:\n```\n', SOLUTION]);
		expect(unclosed.text).not.toContain('return total');
		expect(unclosed.withheld).toBe(1);
	});

	it('holds prose back only while a line could still open a fence', async () => {
		const { pieces } = await run(['Hello ', 'there\n', '`x` is ', 'a name']);
		expect(pieces[0]).toBe('Hello ');
		expect(pieces.join('')).toBe('Hello there\n`x` is a name');
	});
});

describe('guardSolution cost', () => {
	// CPU time, not wall time, so a busy machine does not fail the bound; quadratic work took seconds.
	async function guardedIn(answer: string, size: number) {
		const chunks = chunked(answer, size);
		let result = { text: '', pieces: [] as string[], withheld: -1 };
		const ms = await cpuMs(async () => (result = await run(chunks, LONG_SOLUTION)));
		return { ...result, ms };
	}

	it('guards an answer of 1,000 small code blocks in linear time', async () => {
		expect(tokens(LONG_SOLUTION).length).toBeGreaterThan(300);
		const answer = Array.from(
			{ length: 1000 },
			(_, i) => `Next, step ${i}:\n\n\`\`\`python\nx_${i} = total + ${i}\n\`\`\`\n\n`
		).join('');
		const { text, withheld, ms } = await guardedIn(answer, 7);
		expect(text).toBe(answer);
		expect(withheld).toBe(0);
		expect(ms).toBeLessThan(100);
	});

	it('guards one big code block streamed in small pieces in linear time', async () => {
		let code = '';
		for (let i = 0; code.length < 65_536; i++) code += `values_${i} = compute(${i}) + offset\n`;
		const answer = `A long listing:\n\n\`\`\`python\n${code}\`\`\`\n\nThat is all.`;
		const { text, withheld, ms } = await guardedIn(answer, 5);
		expect(text).toBe(answer);
		expect(withheld).toBe(0);
		expect(ms).toBeLessThan(100);
	});

	it('scans long lines in linear time and still finds a fence with a long info line', async () => {
		const held = `\`x\` is ${'a name, '.repeat(8192)}\nThat is all.`;
		const line = await guardedIn(held, 5);
		expect(line.text).toBe(held);
		expect(line.ms).toBeLessThan(100);
		const fenced = await guardedIn(
			`\`\`\`python ${'a '.repeat(32_768)}\n${LONG_SOLUTION}\`\`\`\n`,
			5
		);
		expect(fenced.text).not.toContain('grade_report');
		expect(fenced.withheld).toBe(1);
		expect(fenced.ms).toBeLessThan(100);
	});

	it('still withholds a solution handed over across several blocks, and only that', async () => {
		const lines = LONG_SOLUTION.split('\n');
		const parts = [0, 1, 2, 3, 4].map((k) =>
			lines.slice((k * lines.length) / 5, ((k + 1) * lines.length) / 5).join('\n')
		);
		const answer = parts
			.map(
				(part, k) =>
					`Unrelated example ${k}:\n\`\`\`python\nprint("step", ${k})\n\`\`\`\nThen part ${k}:\n\`\`\`python\n${part}\n\`\`\`\n`
			)
			.join('');
		const { text, withheld } = await run(chunked(answer, 7), LONG_SOLUTION);
		// Parts 0 to 2 leave too much out; part 3 would complete most of it; part 4 alone does not.
		for (const k of [0, 1, 2, 4]) expect(text).toContain(parts[k]);
		expect(text).not.toContain(parts[3]);
		expect(withheld).toBe(1);
		for (let k = 0; k < 5; k++) expect(text).toContain(`print("step", ${k})`);
		expect(reproducesSolution(codeIn(text), LONG_SOLUTION)).toBe(false);
	});
});
