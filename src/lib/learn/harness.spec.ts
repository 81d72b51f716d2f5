/**
 * The Python harness in Node Pyodide: capture, input(), errors with student line numbers, checks,
 * run(), independence between runs and the output cap.
 */
import { loadPyodide, type PyodideAPI } from 'pyodide';
import { beforeAll, describe, expect, it } from 'vitest';
import { HARNESS_PY, OUTPUT_LIMIT, type CheckResult, type RunResult } from './harness.ts';

let pyodide: PyodideAPI;

beforeAll(async () => {
	pyodide = await loadPyodide();
	pyodide.runPython(HARNESS_PY);
}, 120_000);

function run(code: string, stdin = ''): RunResult {
	const fn = pyodide.globals.get('_tutor_run');
	try {
		return JSON.parse(fn(code, stdin));
	} finally {
		fn.destroy();
	}
}

function check(code: string, checks: string): CheckResult {
	const fn = pyodide.globals.get('_tutor_check');
	try {
		return JSON.parse(fn(code, checks));
	} finally {
		fn.destroy();
	}
}

describe('_tutor_run', () => {
	it('captures stdout and stderr', () => {
		const result = run('import sys\nprint("hello", 42)\nprint("oops", file=sys.stderr)');
		expect(result).toEqual({ ok: true, stdout: 'hello 42\n', stderr: 'oops\n', error: null });
	});

	it('runs as __main__', () => {
		expect(run('if __name__ == "__main__":\n    print("main")').stdout).toBe('main\n');
	});

	it('feeds input() from stdin line by line and echoes the prompt', () => {
		const code = 'name = input("Name: ")\nage = int(input())\nprint(f"{name} is {age}")';
		const result = run(code, 'Ada\r\n36\n');
		expect(result.ok).toBe(true);
		expect(result.stdout).toBe('Name: Ada is 36\n');
	});

	it('raises a clear EOFError when input runs out', () => {
		const result = run('a = input("first? ")\nb = input("second? ")', 'only one');
		expect(result.ok).toBe(false);
		expect(result.stdout).toBe('first? second? ');
		expect(result.error).toMatchObject({ type: 'EOFError', line: 2 });
		expect(result.error?.message).toMatch(/all 1 line of input has already been read/);
		expect(run('input()').error?.message).toMatch(/no input was given/);
	});

	it('reports a runtime error with the line in the student code and only student frames', () => {
		const code = 'def half(n):\n    return n / 0\n\nprint("before")\nhalf(4)\n';
		const result = run(code);
		expect(result.ok).toBe(false);
		expect(result.stdout).toBe('before\n');
		expect(result.error).toMatchObject({
			type: 'ZeroDivisionError',
			message: 'division by zero',
			line: 2
		});
		const tb = result.error?.traceback ?? '';
		expect(tb).toContain('File "main.py", line 5, in <module>');
		expect(tb).toContain('File "main.py", line 2, in half');
		expect(tb).toContain('return n / 0');
		expect(tb).not.toContain('<exec>');
		expect(tb).not.toContain('_tutor');
	});

	it('reports a syntax error with its line', () => {
		const result = run('x = 1\nif x > 0\n    print(x)\n');
		expect(result.ok).toBe(false);
		expect(result.error).toMatchObject({ type: 'SyntaxError', line: 2 });
		expect(result.error?.message).toMatch(/expected ':'/);
		expect(result.error?.traceback).toContain('main.py');
		expect(run('def f():\nreturn 1').error).toMatchObject({ type: 'IndentationError', line: 2 });
	});

	it('treats sys.exit() as a normal end and a failing exit status as an error', () => {
		expect(run('import sys\nprint(1)\nsys.exit()\nprint(2)')).toMatchObject({
			ok: true,
			stdout: '1\n'
		});
		expect(run('import sys\nsys.exit(2)').error).toMatchObject({ type: 'SystemExit', line: 2 });
	});

	it('keeps consecutive runs independent', () => {
		run('secret = 1\nimport builtins\nbuiltins.print = None\nbuiltins.extra = 1\ninput = len');
		const result = run('print(input("> "))\nprint(secret)', 'typed');
		expect(result.stdout).toBe('> typed\n');
		expect(result.error).toMatchObject({ type: 'NameError', line: 2 });
		expect(run('print(extra)').error?.type).toBe('NameError');
		// The interpreter's own streams are back after a run.
		expect(pyodide.runPython('import sys; type(sys.stdout).__name__')).not.toBe('_TutorOutput');
	});

	it('caps each stream and says the output was truncated', () => {
		const result = run('for i in range(20000):\n    print("line", i)');
		expect(result.ok).toBe(true);
		expect(result.stdout.length).toBeLessThan(OUTPUT_LIMIT + 200);
		expect(result.stdout.startsWith('line 0\nline 1\n')).toBe(true);
		expect(result.stdout).toMatch(
			/\[output truncated: only the first 50000 characters are shown\]\n$/
		);
		expect(run('print("short")').stdout).toBe('short\n');
	});
});

describe('_tutor_check', () => {
	const checks = [
		'def check_small():',
		'    """area(3, 4) returns 12"""',
		'    assert area(3, 4) == 12, "Multiply the width by the height."',
		'',
		'def check_zero():',
		'    assert area(0, 5) == 0',
		'',
		'def check_printed():',
		'    """The program prints a greeting',
		'',
		'    More detail nobody sees."""',
		'    assert "hi" in output, "Print a greeting."',
		''
	].join('\n');

	it('passes every check on correct code, in the order written', () => {
		const result = check('def area(w, h):\n    return w * h\nprint("hi")', checks);
		expect(result.ok).toBe(true);
		expect(result.passed).toBe(true);
		expect(result.checks).toEqual([
			{ name: 'check_small', description: 'area(3, 4) returns 12', passed: true, message: '' },
			{ name: 'check_zero', description: 'check_zero', passed: true, message: '' },
			{
				name: 'check_printed',
				description: 'The program prints a greeting',
				passed: true,
				message: ''
			}
		]);
	});

	it('reports assertion messages, a generic message for bare asserts and exceptions', () => {
		const result = check('def area(w, h):\n    return w + h + 1', checks);
		expect(result.ok).toBe(true);
		expect(result.passed).toBe(false);
		expect(result.checks.map((c) => c.passed)).toEqual([false, false, false]);
		expect(result.checks[0]?.message).toBe('Multiply the width by the height.');
		expect(result.checks[1]?.message).toMatch(/This check did not pass/);
		expect(result.checks[2]?.message).toBe('Print a greeting.');

		const raising = check('def area(w, h):\n    return w * undefined_name', checks);
		expect(raising.checks[0]?.message).toBe(
			"NameError: name 'undefined_name' is not defined (line 2 of your code)"
		);
	});

	it('fails every check when the code does not run', () => {
		for (const code of [
			'def area(w, h)\n    return w * h',
			'def area(w, h):\n    return w * h\n1 / 0'
		]) {
			const result = check(code, checks);
			expect(result.ok).toBe(false);
			expect(result.error).not.toBeNull();
			expect(result.passed).toBe(false);
			expect(result.checks).toHaveLength(3);
			for (const outcome of result.checks) {
				expect(outcome.passed).toBe(false);
				expect(outcome.message).toMatch(/must run without errors/);
			}
		}
	});

	it('offers run(stdin) that reruns the program fresh', () => {
		const code = [
			'count = 0',
			'try:',
			'    name = input("Name? ")',
			'except EOFError:',
			'    name = "nobody"',
			'count += 1',
			'print("Hello,", name, count)'
		].join('\n');
		const runChecks = [
			'def check_greets():',
			'    """Greets whoever is named"""',
			'    assert run("Ada\\n") == "Name? Hello, Ada 1\\n"',
			'    assert run("Bo") == "Name? Hello, Bo 1\\n"',
			'    assert output == "Name? Hello, nobody 1\\n"',
			'',
			'def check_divides():',
			'    """Divides"""',
			'    run("")',
			'    n = int(run("0"))'
		].join('\n');
		const result = check(code, runChecks);
		expect(result.ok).toBe(true);
		expect(result.checks[0]).toMatchObject({ passed: true, message: '' });
		expect(result.checks[1]?.passed).toBe(false);
		expect(result.checks[1]?.message).toMatch(/^ValueError: invalid literal for int/);

		const divides = check(
			'print("Ten divided by?")\nn = int(input())\nprint(10 // n)',
			'def check_five():\n    assert run("5").endswith("2\\n")\n\ndef check_zero():\n    run("0")\n\ndef check_more():\n    run("1\\n")\n    run("")'
		);
		// Stopping at input() on the first run (which has no input) is not an error...
		expect(divides).toMatchObject({ ok: true, error: null, stdout: 'Ten divided by?\n' });
		expect(divides.checks[0]?.passed).toBe(true);
		// ...but errors in run(), including running out of input there, are.
		expect(divides.checks[1]?.message).toBe(
			"ProgramError: your program stopped with ZeroDivisionError on line 3 when given the input '0': division by zero"
		);
		expect(divides.checks[2]?.message).toMatch(
			/stopped with EOFError on line 2 when given the input '': input\(\) was called, but no input/
		);
		const swallowed = check(
			'try:\n    input()\nexcept EOFError:\n    raise EOFError("mine")',
			'def check_x():\n    pass'
		);
		expect(swallowed.ok).toBe(false);
	});

	it('runs checks in a copy of the student globals, separate from later runs', () => {
		const first = check(
			'items = []',
			'def check_mutate():\n    global items\n    items = [1]\n    assert True'
		);
		expect(first.passed).toBe(true);
		const second = check(
			'print("x")',
			'def check_no_items():\n    assert "items" not in globals()'
		);
		expect(second.passed).toBe(true);
	});

	it('reports a problem in the checks themselves', () => {
		const result = check('x = 1', 'def check_broken(:\n    pass');
		expect(result.passed).toBe(false);
		expect(result.checks[0]?.message).toMatch(/checks could not be loaded/);
	});

	it('is not passed without any checks', () => {
		expect(check('x = 1', 'y = 2').passed).toBe(false);
	});
});
