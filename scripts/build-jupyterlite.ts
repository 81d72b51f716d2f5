// `npm run build:jupyterlite`: assembles the Python lab in static/jupyterlite/ from the npm registry
// and Debian packages only, reproducibly. `npm run build` runs it when the site is missing.
//
//   1. app bundle   .jupyterlite-build/ (own package.json + lockfile) → rspack → build/
//                   JupyterLab 4.6 + JupyterLite 0.8 + the Pyodide kernel, imported statically, plus
//                   the tutor's server drive (.jupyterlite-build/src/server-drive.js)
//   2. Pyodide      node_modules/pyodide (MPL-2.0) → pyodide/
//   3. wheels       Debian bookworm packages (apt-get download + dpkg-deb -x, no system install,
//                   cached in .jupyterlite-build/cache/) → pure-Python wheels in pyodide/;
//                   a micropip stub; the kernel's own wheels from @jupyterlite/pyodide-kernel
//   4. lock file    pyodide/tutor-lock.json listing only those wheels, with sha256
//   5. config       jupyter-lite.json (no URL to another host), lab/index.html, NOTICE, licenses/
//
// Options: --force rebuilds even if the site is current; --if-missing does nothing when a site built
// from the same inputs exists. Everything is written to a temporary folder and swapped in at the end.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { zipSync, type Zippable } from 'fflate';

const root = path.resolve(import.meta.dirname, '..');
const buildRoot = path.join(root, '.jupyterlite-build');
const cacheDir = path.join(buildRoot, 'cache');
const target = path.join(root, 'static', 'jupyterlite');
const staging = path.join(buildRoot, 'out');
const started = Date.now();

/** Debian bookworm packages that make the kernel's Python side; versions pinned exactly. */
export const DEBIAN_PACKAGES = [
	{
		deb: 'python3-ipython',
		version: '8.5.0-4',
		name: 'ipython',
		license: 'BSD-3-Clause',
		depends: [
			'backcall',
			'decorator',
			'jedi',
			'matplotlib-inline',
			'pickleshare',
			'prompt-toolkit',
			'pygments',
			'stack-data',
			'traitlets'
		]
	},
	{ deb: 'python3-jedi', version: '0.18.2-1', name: 'jedi', license: 'MIT', depends: ['parso'] },
	{ deb: 'python3-parso', version: '0.8.3-1', name: 'parso', license: 'MIT', depends: [] },
	{
		deb: 'python3-traitlets',
		version: '5.5.0-1',
		name: 'traitlets',
		license: 'BSD-3-Clause',
		depends: []
	},
	{
		deb: 'python3-pygments',
		version: '2.14.0+dfsg-1',
		name: 'pygments',
		license: 'BSD-2-Clause',
		depends: []
	},
	{
		deb: 'python3-prompt-toolkit',
		version: '3.0.36-2',
		name: 'prompt-toolkit',
		license: 'BSD-3-Clause',
		depends: ['wcwidth']
	},
	{
		deb: 'python3-decorator',
		version: '5.1.1-3',
		name: 'decorator',
		license: 'BSD-2-Clause',
		depends: []
	},
	{
		deb: 'python3-stack-data',
		version: '0.6.2-3',
		name: 'stack-data',
		license: 'MIT',
		depends: ['asttokens', 'executing', 'pure-eval']
	},
	{
		deb: 'python3-executing',
		version: '1.2.0-2',
		name: 'executing',
		license: 'MIT',
		depends: ['asttokens']
	},
	{
		deb: 'python3-asttokens',
		version: '2.2.1-1',
		name: 'asttokens',
		license: 'Apache-2.0',
		depends: ['six']
	},
	{ deb: 'python3-pure-eval', version: '0.2.2-1', name: 'pure-eval', license: 'MIT', depends: [] },
	{
		deb: 'python3-wcwidth',
		version: '0.2.5+dfsg1-1.1',
		name: 'wcwidth',
		license: 'MIT',
		depends: []
	},
	{
		deb: 'python3-matplotlib-inline',
		version: '0.1.6-2',
		name: 'matplotlib-inline',
		license: 'BSD-3-Clause',
		depends: ['traitlets']
	},
	{
		deb: 'python3-comm',
		version: '0.1.2-3',
		name: 'comm',
		license: 'BSD-3-Clause',
		depends: ['traitlets']
	},
	{ deb: 'python3-six', version: '1.16.0-4', name: 'six', license: 'MIT', depends: [] },
	{
		deb: 'python3-backcall',
		version: '0.2.0-4',
		name: 'backcall',
		license: 'BSD-3-Clause',
		depends: []
	},
	{
		deb: 'python3-pickleshare',
		version: '0.7.5-5',
		name: 'pickleshare',
		license: 'MIT',
		depends: []
	}
] as const;

/** Source fixes for Python 3.14 / the kernel; each must apply, or the build stops. */
const PATCHES: Record<string, { file: string; from: string; to: string }[]> = {
	// The kernel imports BaseComm from comm, which comm 0.1.2 keeps in comm.base_comm.
	comm: [
		{
			file: 'comm/__init__.py',
			from: 'from .base_comm import CommManager\n',
			to: 'from .base_comm import BaseComm, CommManager  # patched: re-export BaseComm\n'
		}
	],
	// executing 1.2.0 asserts on Python 3.14 byte code; give up on the node quietly instead, so
	// tracebacks print normally.
	executing: [
		{
			file: 'executing/executing.py',
			from: `                assert stmts is not None
                if node:
                    new_stmts = {statement_containing_node(node)}
                    assert_(new_stmts <= stmts)
                    stmts = new_stmts`,
			to: `                if stmts is None:  # patched: no assertion on unknown byte code
                    node, stmts = None, set()
                if node:
                    new_stmts = {statement_containing_node(node)}
                    if new_stmts <= stmts:
                        stmts = new_stmts
                    else:
                        node = None`
		}
	]
};

/** Packages every kernel start loads (the kernel skips its own micropip installs for these names). */
const KERNEL_PRELOAD = [
	'micropip',
	'piplite',
	'pyodide-kernel',
	'ipykernel',
	'comm',
	'ipython',
	'jedi'
];

const PYODIDE_FILES = ['pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip'];

function step(message: string): void {
	console.log(
		`[jupyterlite ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`
	);
}

function sha256(data: Buffer | string): string {
	return createHash('sha256').update(data).digest('hex');
}

function run(cmd: string, args: string[], cwd = root): string {
	return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

function readJson<T = unknown>(file: string): T {
	return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** A fingerprint of every input, so `--if-missing` can tell a current site from a stale one. */
function inputsHash(): string {
	const hash = createHash('sha256');
	const files = [
		'.jupyterlite-build/package-lock.json',
		'.jupyterlite-build/rspack.config.cjs',
		'.jupyterlite-build/run-rspack.cjs',
		'.jupyterlite-build/src/bootstrap.js',
		'.jupyterlite-build/src/index.template.js',
		'.jupyterlite-build/src/extensions.json',
		'.jupyterlite-build/src/server-drive.js',
		'.jupyterlite-build/src/pyodide-kernel.js',
		'.jupyterlite-build/src/lab.css',
		'.jupyterlite-build/python/micropip/__init__.py',
		'.jupyterlite-build/python/micropip/package_index.py',
		'scripts/build-jupyterlite.ts'
	];
	for (const file of files) hash.update(file).update(fs.readFileSync(path.join(root, file)));
	hash.update(
		readJson<{ version: string }>(path.join(root, 'node_modules/pyodide/package.json')).version
	);
	return hash.digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// Wheels are zip files: fflate's, made reproducible (sorted entries, a fixed 1980-01-01 timestamp,
// Unix permissions 0644).

const WHEEL_MTIME = new Date(1980, 0, 1);

function zip(entries: { name: string; data: Buffer }[]): Buffer {
	const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	const files: Zippable = {};
	for (const { name, data } of sorted)
		files[name] = [
			new Uint8Array(data),
			{ level: 9, mtime: WHEEL_MTIME, os: 3, attrs: 0o100644 << 16 }
		];
	return Buffer.from(zipSync(files));
}

function listFiles(dir: string, base = dir): string[] {
	const out: string[] = [];
	for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) {
			if (entry.name === '__pycache__' || entry.name === 'tests') continue;
			out.push(...listFiles(full, base));
		} else if (entry.isFile() && !entry.name.endsWith('.pyc')) {
			out.push(path.relative(base, full).split(path.sep).join('/'));
		}
	}
	return out;
}

/** A pure-Python wheel from files under `srcDir` (paths relative to it, site-packages layout). */
function makeWheel(
	name: string,
	version: string,
	srcDir: string,
	files: string[],
	compiled: Map<string, Buffer> = new Map()
) {
	const dist = name.replace(/-/g, '_');
	const distInfo = `${dist}-${version}.dist-info`;
	// Where a module was byte-compiled, ship only its .pyc in the module's place (as Pyodide's own
	// standard library does): less to download and unpack, nothing to compile in the browser.
	const entries: { name: string; data: Buffer }[] = files
		.filter((file) => !(file.endsWith('.py') && compiled.has(`${file}c`)))
		.map((file) => ({ name: file, data: fs.readFileSync(path.join(srcDir, file)) }));
	for (const [file, data] of compiled) entries.push({ name: file, data });
	entries.push({
		name: `${distInfo}/METADATA`,
		data: Buffer.from(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`)
	});
	entries.push({
		name: `${distInfo}/WHEEL`,
		data: Buffer.from(
			'Wheel-Version: 1.0\nGenerator: ai-coding-tutor build-jupyterlite\nRoot-Is-Purelib: true\nTag: py3-none-any\n'
		)
	});
	const record = entries
		.map((e) => {
			const digest = createHash('sha256').update(e.data).digest('base64url');
			return `${e.name},sha256=${digest},${e.data.length}`;
		})
		.concat(`${distInfo}/RECORD,,`)
		.join('\n');
	entries.push({ name: `${distInfo}/RECORD`, data: Buffer.from(record + '\n') });
	const fileName = `${dist}-${version}-py3-none-any.whl`;
	const topLevel = [...new Set(files.map((f) => f.split('/')[0]!.replace(/\.py$/, '')))];
	return { fileName, data: zip(entries), imports: topLevel };
}

/**
 * Byte-compiles the wheels' Python files with Pyodide's own CPython (run here in Node), so the
 * browser does not compile IPython & co. on every kernel start. Each `x.py` becomes `x.pyc` in its
 * place (sourceless, like Pyodide's standard library). Returns, per source folder, the .pyc files
 * keyed by their path inside the wheel.
 */
async function compilePython(
	sources: { dir: string; files: string[] }[]
): Promise<Map<string, Buffer>[]> {
	const { loadPyodide } = (await import(
		pathToFileURL(path.join(root, 'node_modules', 'pyodide', 'pyodide.mjs')).href
	)) as { loadPyodide: (o: object) => Promise<PyodideLike> };
	const py = await loadPyodide({ indexURL: path.join(root, 'node_modules', 'pyodide') + '/' });
	const results: Map<string, Buffer>[] = [];
	for (const [i, { dir, files }] of sources.entries()) {
		const base = `/build/${i}`;
		for (const file of files.filter((f) => f.endsWith('.py'))) {
			const dest = `${base}/${file}`;
			py.FS.mkdirTree(path.posix.dirname(dest));
			py.FS.writeFile(dest, fs.readFileSync(path.join(dir, file)));
		}
	}
	// Paths inside the .pyc files (shown in tracebacks) are where the wheels unpack.
	py.runPython(`
import compileall, os, py_compile, sys
site = [p for p in sys.path if p.endswith('site-packages')][0]
for d in sorted(os.listdir('/build')):
    compileall.compile_dir(f'/build/{d}', quiet=2, workers=1, legacy=True, ddir=site,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
`);
	for (const [i] of sources.entries()) {
		const base = `/build/${i}`;
		const out = new Map<string, Buffer>();
		const walk = (dir: string) => {
			if (!py.FS.analyzePath(dir).exists) return;
			for (const name of py.FS.readdir(dir)) {
				if (name === '.' || name === '..') continue;
				const full = `${dir}/${name}`;
				if (py.FS.isDir(py.FS.stat(full).mode)) walk(full);
				else if (name.endsWith('.pyc'))
					out.set(full.slice(base.length + 1), Buffer.from(py.FS.readFile(full)));
			}
		};
		walk(base);
		results.push(out);
	}
	return results;
}

interface PyodideLike {
	runPython(code: string): unknown;
	FS: {
		mkdirTree(p: string): void;
		writeFile(p: string, data: Uint8Array): void;
		readFile(p: string): Uint8Array;
		readdir(p: string): string[];
		stat(p: string): { mode: number };
		isDir(mode: number): boolean;
		analyzePath(p: string): { exists: boolean };
	};
}

// ---------------------------------------------------------------------------------------------

function ensureBuildDependencies(): void {
	const stamp = path.join(buildRoot, 'node_modules', '.package-lock.json');
	const lock = path.join(buildRoot, 'package-lock.json');
	if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= fs.statSync(lock).mtimeMs) return;
	// `npm install`, not `npm ci`: the registry this project uses lacks other platforms' optional
	// rspack bindings, so the lockfile has no entries for them and `npm ci` refuses it. `npm install`
	// still installs exactly the lockfile's versions (and leaves it unchanged).
	step('installing the build-only packages (.jupyterlite-build: npm install from its lockfile)…');
	execFileSync(
		'npm',
		['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
		{ cwd: buildRoot, stdio: 'inherit' }
	);
}

function buildAppBundle(): void {
	step('bundling the JupyterLab app with rspack…');
	execFileSync(process.execPath, ['run-rspack.cjs'], {
		cwd: buildRoot,
		stdio: 'inherit',
		env: { ...process.env, JUPYTERLITE_OUT: staging, NODE_ENV: 'production' }
	});
	// Settings schemas: one all.json that JupyterLite's settings manager reads.
	const schemaDir = path.join(staging, 'build', 'schemas');
	const all: unknown[] = [];
	for (const scopeOrPkg of fs.readdirSync(schemaDir).sort()) {
		const pkgDirs = scopeOrPkg.startsWith('@')
			? fs.readdirSync(path.join(schemaDir, scopeOrPkg)).map((p) => `${scopeOrPkg}/${p}`)
			: [scopeOrPkg];
		for (const pkg of pkgDirs.sort()) {
			const dir = path.join(schemaDir, pkg);
			const { version } = readJson<{ version: string }>(path.join(dir, 'package.json.orig'));
			for (const file of fs.readdirSync(dir).sort()) {
				if (!file.endsWith('.json')) continue;
				const schema = readJson(path.join(dir, file));
				all.push({
					id: `${pkg}:${file.replace(/\.json$/, '')}`,
					raw: '{}',
					schema,
					settings: {},
					version
				});
			}
		}
	}
	fs.writeFileSync(path.join(schemaDir, 'all.json'), JSON.stringify(all));
	// No federated (prebuilt) extensions: every plugin is in the bundle.
	fs.writeFileSync(path.join(schemaDir, 'all_federated.json'), '[]');
}

function copyPyodide(): { info: unknown; version: string } {
	step('copying Pyodide from node_modules/pyodide…');
	const src = path.join(root, 'node_modules', 'pyodide');
	const dest = path.join(staging, 'pyodide');
	fs.mkdirSync(dest, { recursive: true });
	for (const file of PYODIDE_FILES) fs.copyFileSync(path.join(src, file), path.join(dest, file));
	const { version } = readJson<{ version: string }>(path.join(src, 'package.json'));
	const { info } = readJson<{ info: unknown }>(path.join(src, 'pyodide-lock.json'));
	return { info, version };
}

function findDeb(debDir: string, deb: string, version: string): string | undefined {
	// apt names files name_version_arch.deb with the epoch's colon written as %3a.
	const v = version.replace(':', '%3a');
	const file = fs
		.readdirSync(debDir)
		.find((f) => f.startsWith(`${deb}_${v}_`) && f.endsWith('.deb'));
	return file && path.join(debDir, file);
}

/** Downloads (once, into the cache) every pinned .deb that is not there yet, in one apt call. */
function aptDownloadAll(debDir: string): void {
	const missing = DEBIAN_PACKAGES.filter((p) => !findDeb(debDir, p.deb, p.version));
	if (missing.length === 0) return;
	step(`downloading ${missing.length} Debian packages (apt-get download)…`);
	const args = [
		'-q',
		'-o',
		'APT::Sandbox::User=root',
		'download',
		...missing.map((p) => `${p.deb}=${p.version}`)
	];
	try {
		run('apt-get', args, debDir);
	} catch {
		step('apt-get download failed; refreshing the package lists (apt-get update) and retrying…');
		execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
		run('apt-get', args, debDir);
	}
	for (const p of missing) {
		if (!findDeb(debDir, p.deb, p.version))
			throw new Error(`apt-get download ${p.deb}=${p.version} produced no file`);
	}
}

interface LockPackage {
	name: string;
	version: string;
	file_name: string;
	install_dir: 'site';
	sha256: string;
	package_type: 'package';
	imports: string[];
	depends: string[];
	unvendored_tests: false;
	shared_library: false;
}

async function buildWheels(): Promise<{ lock: Record<string, LockPackage>; notices: string[] }> {
	const debDir = path.join(cacheDir, 'debs');
	const extractRoot = path.join(cacheDir, 'extracted');
	fs.mkdirSync(debDir, { recursive: true });
	const dest = path.join(staging, 'pyodide');
	const licenseDir = path.join(staging, 'licenses');
	fs.mkdirSync(licenseDir, { recursive: true });
	const lock: Record<string, LockPackage> = {};
	const notices: string[] = [];

	const add = (
		name: string,
		version: string,
		wheel: { fileName: string; data: Buffer; imports: string[] },
		depends: readonly string[]
	) => {
		fs.writeFileSync(path.join(dest, wheel.fileName), wheel.data);
		lock[name] = {
			name,
			version,
			file_name: wheel.fileName,
			install_dir: 'site',
			sha256: sha256(wheel.data),
			package_type: 'package',
			imports: wheel.imports,
			depends: [...depends],
			unvendored_tests: false,
			shared_library: false
		};
	};

	aptDownloadAll(debDir);
	step(`extracting ${DEBIAN_PACKAGES.length} Debian bookworm packages (dpkg-deb -x)…`);
	const sources: {
		name: string;
		version: string;
		dir: string;
		files: string[];
		depends: readonly string[];
	}[] = [];
	for (const pkg of DEBIAN_PACKAGES) {
		const debFile = findDeb(debDir, pkg.deb, pkg.version)!;
		const out = path.join(extractRoot, `${pkg.deb}_${pkg.version}`);
		fs.rmSync(out, { recursive: true, force: true });
		fs.mkdirSync(out, { recursive: true });
		run('dpkg-deb', ['-x', debFile, out]);
		const site = path.join(out, 'usr', 'lib', 'python3', 'dist-packages');
		const files = listFiles(site).filter(
			(f) => !/\.(dist|egg)-info\//.test(f) && !f.endsWith('.egg-info')
		);
		for (const patch of PATCHES[pkg.name] ?? []) {
			const file = path.join(site, patch.file);
			const text = fs.readFileSync(file, 'utf8');
			if (!text.includes(patch.from))
				throw new Error(`patch for ${pkg.name} (${patch.file}) no longer applies`);
			fs.writeFileSync(file, text.replace(patch.from, patch.to));
		}
		const upstreamVersion = pkg.version.replace(/^\d+:/, '').replace(/[-+~].*$/, '');
		sources.push({
			name: pkg.name,
			version: upstreamVersion,
			dir: site,
			files,
			depends: pkg.depends
		});
		const copyright = path.join(out, 'usr', 'share', 'doc', pkg.deb, 'copyright');
		if (fs.existsSync(copyright))
			fs.copyFileSync(copyright, path.join(licenseDir, `${pkg.deb}.copyright.txt`));
		notices.push(
			`- ${pkg.name} ${upstreamVersion} — Debian package ${pkg.deb} ${pkg.version} (bookworm) — ${pkg.license} — licenses/${pkg.deb}.copyright.txt`
		);
	}
	const micropipSrc = path.join(buildRoot, 'python');
	sources.push({
		name: 'micropip',
		version: '0.0.0',
		dir: micropipSrc,
		files: listFiles(micropipSrc),
		depends: []
	});
	notices.push(
		'- micropip 0.0.0 (offline stub) — written for this project (.jupyterlite-build/python/micropip) — MIT'
	);

	step('byte-compiling them with Pyodide (CPython 3.14 in Node)…');
	const compiled = await compilePython(sources);
	step(`making ${sources.length} wheels…`);
	for (const [i, src] of sources.entries()) {
		add(
			src.name,
			src.version,
			makeWheel(src.name, src.version, src.dir, src.files, compiled[i]),
			src.depends
		);
	}

	step('adding the kernel wheels…');
	const kernelPkg = path.join(buildRoot, 'node_modules', '@jupyterlite', 'pyodide-kernel');
	const kernelVersion = readJson<{ version: string }>(path.join(kernelPkg, 'package.json')).version;
	const kernelWheels: [string, string[], string[]][] = [
		['piplite', ['piplite'], ['micropip']],
		['pyodide-kernel', ['pyodide_kernel'], ['ipython', 'comm', 'ipykernel']],
		['ipykernel', ['ipykernel'], []]
	];
	for (const [name, imports, depends] of kernelWheels) {
		const fileName = fs
			.readdirSync(path.join(kernelPkg, 'pypi'))
			.find((f) => f.startsWith(`${name.replace(/-/g, '_')}-`) && f.endsWith('.whl'));
		if (!fileName)
			throw new Error(`@jupyterlite/pyodide-kernel ${kernelVersion} ships no ${name} wheel`);
		const data = fs.readFileSync(path.join(kernelPkg, 'pypi', fileName));
		const version = fileName.split('-')[1]!;
		add(name, version, { fileName, data, imports }, depends);
		notices.push(
			`- ${name} ${version} — wheel shipped in npm @jupyterlite/pyodide-kernel ${kernelVersion} — BSD-3-Clause`
		);
	}
	return { lock, notices };
}

function bundleNotices(): string[] {
	// Every npm package that went into the app bundle, with its license (from its package.json).
	const lockFile = readJson<{
		packages: Record<string, { version?: string; license?: string; dev?: boolean }>;
	}>(path.join(buildRoot, 'package-lock.json'));
	const lines: string[] = [];
	for (const [key, info] of Object.entries(lockFile.packages)) {
		if (
			!key.startsWith('node_modules/') ||
			key.includes('/node_modules/@rspack') ||
			key.startsWith('node_modules/@rspack')
		)
			continue;
		const name = key.replace(/^.*node_modules\//, '');
		const pkgJson = path.join(buildRoot, key, 'package.json');
		let license = info.license;
		if (!license && fs.existsSync(pkgJson))
			license = readJson<{ license?: string }>(pkgJson).license;
		lines.push(`- ${name} ${info.version ?? ''} — ${license ?? 'see package'}`);
	}
	return [...new Set(lines)].sort();
}

function writeSite(
	pyodide: { info: unknown; version: string },
	lock: Record<string, LockPackage>,
	notices: string[]
): void {
	step('writing the lock file, jupyter-lite.json, pages and NOTICE…');
	const lockJson = JSON.stringify({ info: pyodide.info, packages: lock }, null, 1);
	const lockName = `tutor-lock.${sha256(lockJson).slice(0, 12)}.json`;
	fs.writeFileSync(path.join(staging, 'pyodide', lockName), lockJson);

	const buildDir = path.join(staging, 'build');
	const bundle = fs.readdirSync(buildDir).find((f) => /^bundle\.[0-9a-f]+\.js$/.test(f));
	if (!bundle) throw new Error('rspack produced no bundle.*.js');

	const config = {
		'jupyter-lite-schema-version': 0,
		'jupyter-config-data': {
			appName: 'Python lab',
			appVersion: '0.8',
			appUrl: './lab',
			baseUrl: './',
			defaultKernelName: 'python',
			fullStaticUrl: './build',
			fullLabextensionsUrl: './extensions',
			federated_extensions: [],
			settingsUrl: './build/schemas',
			themesUrl: './build/themes',
			licensesUrl: './licenses',
			tutorApiUrl: '/api/me/notebooks',
			exposeAppInBrowser: false,
			notebookPage: 'lab',
			collaborative: false,
			disabledExtensions: [],
			settingsOverrides: {
				'@jupyterlab/docmanager-extension:plugin': { autosave: true, autosaveInterval: 10 },
				'@jupyterlab/apputils-extension:notification': {
					fetchNews: 'false',
					checkForUpdates: false
				},
				'@jupyterlab/notebook-extension:tracker': { kernelShutdown: false }
			},
			litePluginSettings: {
				'@jupyterlite/pyodide-kernel-extension:kernel': {
					pyodideUrl: './pyodide/pyodide.mjs',
					disablePyPIFallback: true,
					pipliteUrls: [],
					loadPyodideOptions: {
						lockFileURL: `./pyodide/${lockName}`,
						packages: [...new Set([...KERNEL_PRELOAD, ...Object.keys(lock)])].sort()
					}
				}
			}
		}
	};
	fs.writeFileSync(
		path.join(staging, 'jupyter-lite.json'),
		JSON.stringify(config, null, '\t') + '\n'
	);

	fs.mkdirSync(path.join(staging, 'lab'), { recursive: true });
	const css = fs.readFileSync(path.join(buildRoot, 'src', 'lab.css'), 'utf8');
	fs.writeFileSync(
		path.join(staging, 'lab', 'index.html'),
		`<!doctype html>
<html lang="en">
	<head>
		<meta charset="utf-8" />
		<meta name="viewport" content="width=device-width, initial-scale=1" />
		<title>Python lab · AI Coding Tutor</title>
		<link rel="icon" href="/favicon.svg" />
		<script id="jupyter-config-data" type="application/json">{}</script>
		<style>
${css}
		</style>
		<script defer src="../build/${bundle}"></script>
	</head>
	<body class="jp-ThemedContainer">
		<div id="lab-loading" role="status" aria-live="polite">
			<span class="lab-spinner" aria-hidden="true"></span>
			<span>Loading the Python lab…</span>
		</div>
		<noscript>The Python lab needs JavaScript.</noscript>
	</body>
</html>
`
	);
	fs.writeFileSync(
		path.join(staging, 'index.html'),
		`<!doctype html>
<html lang="en">
	<head>
		<meta charset="utf-8" />
		<meta http-equiv="refresh" content="0; url=lab/index.html" />
		<title>Python lab</title>
	</head>
	<body><a href="lab/index.html">Open the Python lab</a></body>
</html>
`
	);

	fs.copyFileSync(
		path.join(root, 'node_modules', 'pyodide', 'README.md'),
		path.join(staging, 'licenses', 'pyodide-README.md')
	);
	const notice = `Python lab of AI Coding Tutor — third-party notices
Generated by scripts/build-jupyterlite.ts (npm run build:jupyterlite). Do not edit.

This folder is assembled from the npm registry and Debian packages only. Nothing is fetched from a
CDN at run time.

Pyodide ${pyodide.version} (pyodide/pyodide.mjs, pyodide.asm.mjs, pyodide.asm.wasm, python_stdlib.zip)
  from the npm package "pyodide" ${pyodide.version}.
  License: Mozilla Public License 2.0 (MPL-2.0), https://mozilla.org/MPL/2.0/ ; source code:
  the Pyodide project (github.com/pyodide/pyodide). The files are redistributed unmodified.
  python_stdlib.zip contains the CPython standard library (Python Software Foundation License 2.0).

Python wheels in pyodide/ (the kernel's Python side; lock file: pyodide/tutor-lock.*.json)
${notices.join('\n')}
  Debian's copyright files (with each package's full license text) are in licenses/.
  Two files are patched for Python 3.14 (see PATCHES in scripts/build-jupyterlite.ts):
  comm/__init__.py (re-exports BaseComm) and executing/executing.py (no assertion on unknown
  byte code).

App bundle in build/ (JupyterLab ${readJson<{ version: string }>(path.join(buildRoot, 'node_modules/@jupyterlab/application/package.json')).version}, JupyterLite ${readJson<{ version: string }>(path.join(buildRoot, 'node_modules/@jupyterlite/services/package.json')).version}, Pyodide kernel ${readJson<{ version: string }>(path.join(buildRoot, 'node_modules/@jupyterlite/pyodide-kernel/package.json')).version})
  built with rspack from these npm packages (.jupyterlite-build/package-lock.json), each under
  the license named in its package.json (JupyterLab and JupyterLite: BSD-3-Clause, Copyright (c)
  Jupyter Development Team / JupyterLite Contributors):
${bundleNotices().join('\n')}
  The tutor's own code in the bundle (the server drive) is part of AI Coding Tutor.
`;
	fs.writeFileSync(path.join(staging, 'NOTICE'), notice);
}

function sizeOf(dir: string): number {
	let total = 0;
	for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
		const full = path.join(dir, entry.name);
		total += entry.isDirectory() ? sizeOf(full) : fs.statSync(full).size;
	}
	return total;
}

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	const stampFile = path.join(target, '.inputs');
	const hash = inputsHash();
	if (
		args.includes('--if-missing') &&
		fs.existsSync(stampFile) &&
		fs.readFileSync(stampFile, 'utf8').trim() === hash
	) {
		console.log(
			'[jupyterlite] static/jupyterlite/ is current; skipping (npm run build:jupyterlite rebuilds it)'
		);
		return;
	}
	step('building static/jupyterlite/ …');
	fs.rmSync(staging, { recursive: true, force: true });
	fs.mkdirSync(staging, { recursive: true });
	ensureBuildDependencies();
	buildAppBundle();
	const pyodide = copyPyodide();
	const { lock, notices } = await buildWheels();
	writeSite(pyodide, lock, notices);
	fs.writeFileSync(path.join(staging, '.inputs'), hash + '\n');

	fs.rmSync(target, { recursive: true, force: true });
	fs.mkdirSync(path.dirname(target), { recursive: true });
	fs.renameSync(staging, target);
	const mib = (sizeOf(target) / 1024 / 1024).toFixed(1);
	step(`done: static/jupyterlite/ (${mib} MiB)`);
}

await main();
