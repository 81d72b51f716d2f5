/**
 * Closes the ways Python could reach Node from inside a worker thread. Pyodide's FFI lets Python call
 * JavaScript: `import js`, `pyodide_js`, and any JS object's `constructor.constructor` (the Function
 * constructor, which compiles a string in the worker's global scope, where `process`, `fetch` and
 * `import()` live). So, once Pyodide has loaded: no code generation from strings, no Node or network
 * globals, no host file system to mount, and no Pyodide API left to reach from Python.
 *
 * @example
 * capMemory(512 * 2 ** 20); // before loadPyodide
 * const pyodide = await loadPyodide({ jsglobals: Object.create(null) });
 * closePyodide(pyodide);
 * closeNode();
 * closeRealm();
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function refuse(): never {
	throw new EvalError('Code generation from strings is disabled here.');
}

/**
 * Makes WebAssembly memory refuse to grow past `maxBytes`. Emscripten grows the heap through
 * `Memory.prototype.grow` and treats a throw as "out of memory", so Python raises MemoryError.
 */
export function capMemory(maxBytes: number) {
	const grow = WebAssembly.Memory.prototype.grow;
	const PAGE = 65_536;
	Object.defineProperty(WebAssembly.Memory.prototype, 'grow', {
		value: function (this: WebAssembly.Memory, pages: number) {
			if (this.buffer.byteLength + pages * PAGE > maxBytes)
				throw new RangeError('WebAssembly memory limit reached');
			return grow.call(this, pages);
		},
		writable: false,
		configurable: false
	});
}

/**
 * Node modules whose functions reach the host. Emscripten keeps its own handles on some of them
 * (`system()` spawns a shell through child_process, NODEFS reads through fs), so their exports are
 * replaced in this thread (each worker thread has its own module instances; the server's are untouched).
 */
const HOST_MODULES = [
	'child_process',
	'fs',
	'fs/promises',
	'net',
	'tls',
	'http',
	'https',
	'http2',
	'dgram',
	'dns',
	'dns/promises',
	'cluster',
	'worker_threads',
	'inspector',
	'vm',
	'wasi'
];

/** Makes every function a host module exports throw; call once Pyodide no longer needs them. */
export function closeNode() {
	for (const name of HOST_MODULES) {
		const exports = require(`node:${name}`) as Record<string, unknown>;
		for (const key of Object.keys(exports)) {
			if (typeof exports[key] !== 'function') continue;
			try {
				exports[key] = function closed() {
					throw new Error(`${name}.${key} is not available to checked code`);
				};
			} catch {
				/* read-only export: nothing reaches it from Python without the closed paths above */
			}
		}
	}
}

/** Globals a Python program must not reach: Node, the network, other threads, module loading. */
const DANGEROUS = [
	'process',
	'require',
	'module',
	'global',
	'fetch',
	'WebSocket',
	'EventSource',
	'XMLHttpRequest',
	'Worker',
	'SharedWorker',
	'BroadcastChannel',
	'importScripts',
	'navigator',
	'Deno',
	'Bun',
	'caches',
	'indexedDB',
	'localStorage',
	'sessionStorage',
	'open'
];

/** Turns off `eval` and every function constructor, and deletes the dangerous globals. */
export function closeRealm() {
	const samples = [function () {}, async function () {}, function* () {}, async function* () {}];
	for (const sample of samples) {
		const proto = Object.getPrototypeOf(sample) as object;
		Object.defineProperty(proto, 'constructor', {
			value: refuse,
			writable: false,
			configurable: false
		});
	}
	const scope = globalThis as Record<string, unknown>;
	for (const name of ['eval', 'Function']) {
		Object.defineProperty(scope, name, { value: refuse, writable: false, configurable: false });
	}
	// Pyodide reports a fatal error on the console; the pool reports it instead.
	for (const method of Object.keys(console))
		(console as unknown as Record<string, unknown>)[method] = () => {};
	for (const name of DANGEROUS) {
		try {
			delete scope[name];
		} catch {
			/* a non-configurable global: overwrite it below */
		}
		if (name in scope) {
			Object.defineProperty(scope, name, {
				value: undefined,
				writable: false,
				configurable: false
			});
		}
	}
}

interface PyodideLike {
	unregisterJsModule(name: string): void;
	FS: { filesystems: Record<string, unknown> };
}

/** Removes the host file systems and the `pyodide_js` module, and empties the public API object. */
export function closePyodide(pyodide: PyodideLike) {
	for (const name of Object.keys(pyodide.FS.filesystems)) {
		if (name !== 'MEMFS') delete pyodide.FS.filesystems[name];
	}
	try {
		pyodide.unregisterJsModule('pyodide_js');
	} catch {
		/* not registered in this version */
	}
	const api = pyodide as unknown as Record<string, unknown>;
	for (const key of Object.getOwnPropertyNames(api)) {
		try {
			delete api[key];
		} catch {
			/* a non-configurable property stays; its value is checked by the tests */
		}
	}
}
