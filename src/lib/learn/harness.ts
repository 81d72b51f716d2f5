/**
 * The Python side of running a student's code: a small harness, loaded once into a Pyodide
 * interpreter, that runs code as a fresh `main.py`, captures what it prints, feeds `input()` from a
 * stdin text and runs an exercise's checks against it. Shared by the browser worker and Node tests, so
 * it imports nothing from the DOM or Node.
 *
 * Infinite loops are not the harness's business: the worker that hosts Pyodide is terminated.
 *
 * Checking runs the code once with no input, so a program that reads input would stop at its first
 * `input()` with an EOFError. `_tutor_check` does not count that as an error (such exercises check the
 * program with `run(stdin)`); any other error, or running out of input that was given, still is.
 *
 * @example
 * pyodide.runPython(HARNESS_PY);
 * const result: RunResult = JSON.parse(pyodide.globals.get('_tutor_run')(code, stdin));
 */

/** Characters of stdout (and, separately, of stderr) kept per run; the rest is dropped with a note. */
export const OUTPUT_LIMIT = 50_000;

/** The file name student code runs as, so tracebacks read `File "main.py", line N`. */
export const STUDENT_FILENAME = 'main.py';

export interface PyError {
	/** The exception's class name, e.g. `NameError`. */
	type: string;
	message: string;
	/** The line in the student's code the error points at, when there is one. */
	line: number | null;
	/** The traceback, with only the student's own frames. */
	traceback: string;
}

export interface RunResult {
	/** True when the code ran to the end (or exited with status 0) without an exception. */
	ok: boolean;
	stdout: string;
	stderr: string;
	error: PyError | null;
}

export interface CheckOutcome {
	name: string;
	/** The first line of the check's docstring, or its name. */
	description: string;
	passed: boolean;
	/** Empty when passed; otherwise a hint for the student. */
	message: string;
}

export interface CheckResult extends RunResult {
	checks: CheckOutcome[];
	/** The code ran, there was at least one check, and every check passed. */
	passed: boolean;
}

/**
 * Defines `_tutor_run(code, stdin)` and `_tutor_check(code, checks)` in the interpreter's globals.
 * Both return JSON strings: a `RunResult` and a `CheckResult`. Every other name starts `_tutor_`.
 */
export const HARNESS_PY = String.raw`
import builtins as _tutor_builtins
import io as _tutor_io
import json as _tutor_json
import linecache as _tutor_linecache
import sys as _tutor_sys
import traceback as _tutor_traceback
import types as _tutor_types

_TUTOR_LIMIT = ${OUTPUT_LIMIT}
_TUTOR_FILE = "${STUDENT_FILENAME}"
_TUTOR_CHECKS_FILE = "checks.py"
_TUTOR_FAILED = "This check did not pass. Compare what your code does with what the exercise asks for."
_TUTOR_MUST_RUN = "Your code must run without errors before it can be checked. Fix the error first, then try again."


class _TutorOutput(_tutor_io.TextIOBase):
    """A text stream that keeps the first _TUTOR_LIMIT characters written to it."""

    def __init__(self):
        self._parts = []
        self._size = 0
        self._truncated = False

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not " + type(text).__name__)
        if not self._truncated:
            room = _TUTOR_LIMIT - self._size
            if len(text) > room:
                self._parts.append(text[:room])
                self._size = _TUTOR_LIMIT
                self._truncated = True
            else:
                self._parts.append(text)
                self._size += len(text)
        return len(text)

    def getvalue(self):
        text = "".join(self._parts)
        if self._truncated:
            if not text.endswith("\n"):
                text += "\n"
            text += "[output truncated: only the first %d characters are shown]\n" % _TUTOR_LIMIT
        return text


class _TutorStdin(_tutor_io.TextIOBase):
    """The text input() reads, one line at a time."""

    def __init__(self, text):
        self._lines = text.replace("\r\n", "\n").splitlines(keepends=True)
        self._given = len(self._lines)
        self._next = 0
        # The EOFError input() raised when it ran out, to tell it apart from any other EOFError.
        self.ran_out = None

    def readable(self):
        return True

    def readline(self, size=-1):
        if self._next >= len(self._lines):
            return ""
        line = self._lines[self._next]
        self._next += 1
        return line

    def read(self, size=-1):
        rest = "".join(self._lines[self._next:])
        self._next = len(self._lines)
        return rest

    def input(self, prompt=""):
        _tutor_sys.stdout.write(str(prompt))
        line = self.readline()
        if line == "":
            if self._given == 0:
                self.ran_out = EOFError("input() was called, but no input was given to the program")
            else:
                self.ran_out = EOFError(
                    "input() was called, but all %d line%s of input %s already been read"
                    % (self._given, "" if self._given == 1 else "s", "has" if self._given == 1 else "have")
                )
            raise self.ran_out
        return line[:-1] if line.endswith("\n") else line


class _TutorSandbox:
    """Redirects stdout, stderr, stdin and input() for one run, and puts everything back after,
    including any builtins the student's code replaced."""

    def __init__(self, stdin):
        self.stdout = _TutorOutput()
        self.stderr = _TutorOutput()
        self.stdin = _TutorStdin(stdin)

    def __enter__(self):
        self._saved = (_tutor_sys.stdout, _tutor_sys.stderr, _tutor_sys.stdin, _tutor_sys.modules.get("__main__"))
        self._builtins = dict(_tutor_builtins.__dict__)
        _tutor_sys.stdout = self.stdout
        _tutor_sys.stderr = self.stderr
        _tutor_sys.stdin = self.stdin
        _tutor_builtins.input = self.stdin.input
        return self

    def __exit__(self, *exc):
        _tutor_sys.stdout, _tutor_sys.stderr, _tutor_sys.stdin, main = self._saved
        if main is not None:
            _tutor_sys.modules["__main__"] = main
        current = _tutor_builtins.__dict__
        current.update(self._builtins)
        for name in [name for name in current if name not in self._builtins]:
            del current[name]
        return False


def _tutor_only_student_frames(te, seen):
    if te is None or id(te) in seen:
        return
    seen.add(id(te))
    te.stack = _tutor_traceback.StackSummary.from_list(
        [frame for frame in te.stack if frame.filename == _TUTOR_FILE]
    )
    _tutor_only_student_frames(te.__cause__, seen)
    _tutor_only_student_frames(te.__context__, seen)
    for inner in getattr(te, "exceptions", None) or []:
        _tutor_only_student_frames(inner, seen)


def _tutor_error(exc):
    te = _tutor_traceback.TracebackException(type(exc), exc, exc.__traceback__)
    _tutor_only_student_frames(te, set())
    if isinstance(exc, SyntaxError) and exc.filename == _TUTOR_FILE:
        line = exc.lineno
        message = exc.msg
    else:
        line = te.stack[-1].lineno if len(te.stack) else None
        message = str(exc)
    return {
        "type": type(exc).__name__,
        "message": message,
        "line": line,
        "traceback": "".join(te.format()),
    }


def _tutor_execute(code, stdin):
    """Runs code as a fresh __main__ module. Returns the result dict, the module's globals and
    whether it stopped because input() found no input at all."""
    module = _tutor_types.ModuleType("__main__")
    namespace = module.__dict__
    namespace["__file__"] = _TUTOR_FILE
    namespace["__builtins__"] = _tutor_builtins
    _tutor_linecache.cache[_TUTOR_FILE] = (len(code), None, code.splitlines(keepends=True), _TUTOR_FILE)
    error = None
    waiting = False
    with _TutorSandbox(stdin) as sandbox:
        _tutor_sys.modules["__main__"] = module
        try:
            compiled = compile(code, _TUTOR_FILE, "exec", dont_inherit=True)
            exec(compiled, namespace)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                error = _tutor_error(exc)
        except BaseException as exc:
            error = _tutor_error(exc)
            waiting = exc is sandbox.stdin.ran_out and stdin == ""
    result = {
        "ok": error is None,
        "stdout": sandbox.stdout.getvalue(),
        "stderr": sandbox.stderr.getvalue(),
        "error": error,
    }
    return result, namespace, waiting


def _tutor_run(code, stdin=""):
    result, _, _ = _tutor_execute(code, stdin)
    return _tutor_json.dumps(result)


class ProgramError(Exception):
    """Raised by run() in checks when the student's program stops with an error."""


def _tutor_describe(function):
    doc = (function.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else function.__name__


def _tutor_failure(exc):
    if isinstance(exc, AssertionError):
        return str(exc) if exc.args and str(exc) else _TUTOR_FAILED
    message = type(exc).__name__ + (": " + str(exc) if str(exc) else "")
    if not isinstance(exc, ProgramError):
        lines = [frame.lineno for frame in _tutor_traceback.extract_tb(exc.__traceback__) if frame.filename == _TUTOR_FILE]
        if lines:
            message += " (line %d of your code)" % lines[-1]
    return message


def _tutor_load_checks(checks, namespace):
    """Defines the checks in namespace. Returns the check functions in the order they are written."""
    exec(compile(checks, _TUTOR_CHECKS_FILE, "exec", dont_inherit=True), namespace)
    found = [
        value
        for name, value in namespace.items()
        if name.startswith("check_")
        and isinstance(value, _tutor_types.FunctionType)
        and value.__code__.co_filename == _TUTOR_CHECKS_FILE
    ]
    return sorted(found, key=lambda function: function.__code__.co_firstlineno)


def _tutor_check(code, checks):
    result, student_globals, waiting = _tutor_execute(code, "")
    if waiting:
        # A program that reads input stops at its first input() here; its checks use run(stdin).
        result["ok"] = True
        result["error"] = None

    def run(stdin=""):
        """Runs the student's code again from scratch with stdin as its input; returns what it printed."""
        again, _, _ = _tutor_execute(code, stdin)
        if not again["ok"]:
            error = again["error"]
            where = " on line %d" % error["line"] if error["line"] else ""
            raise ProgramError(
                "your program stopped with %s%s when given the input %r: %s"
                % (error["type"], where, stdin, error["message"])
            )
        return again["stdout"]

    namespace = dict(student_globals) if result["ok"] else {"__builtins__": _tutor_builtins}
    namespace["output"] = result["stdout"]
    namespace["run"] = run
    outcomes = []
    with _TutorSandbox(""):
        try:
            functions = _tutor_load_checks(checks, namespace)
        except BaseException as exc:
            functions = []
            outcomes.append({
                "name": "checks",
                "description": "The checks for this exercise load",
                "passed": False,
                "message": "The checks could not be loaded (" + _tutor_failure(exc) + "). This is a problem with the exercise, not your code.",
            })
        for function in functions:
            outcome = {"name": function.__name__, "description": _tutor_describe(function), "passed": False, "message": _TUTOR_MUST_RUN}
            if result["ok"]:
                try:
                    function()
                    outcome["passed"] = True
                    outcome["message"] = ""
                except BaseException as exc:
                    outcome["message"] = _tutor_failure(exc)
            outcomes.append(outcome)
    result["checks"] = outcomes
    result["passed"] = result["ok"] and len(outcomes) > 0 and all(o["passed"] for o in outcomes)
    return _tutor_json.dumps(result)
`;
