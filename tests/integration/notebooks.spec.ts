/**
 * Module notebooks and the Python lab through the built server (what `npm start` runs): the
 * /api/me/notebooks endpoints need a user and keep each student's copy to themselves, save and
 * reset work, bad input gets a clear 4xx and changes nothing, a course update (an admin importing a
 * changed pack) never overwrites a student's saved copy, and the lab's static files come with the
 * right types, cache lifetimes and isolation headers. Also: the pack format's notebook checks, and
 * the built jupyter-lite.json names no other host.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNotebook } from '../../src/lib/server/learn/notebooks.ts';
import { parsePack, readPackDir } from '../../src/lib/server/learn/pack.ts';
import { startAppWithUsers } from '../helpers/app.ts';
import { ROOT, type Client, type RunningServer } from '../helpers/server.ts';

const ADMIN = 'notebooks.admin@example.com';
const STARTER = path.join(ROOT, 'content', 'starter');
const SITE = path.join(ROOT, 'static', 'jupyterlite');
const MODULE = 'values-and-types';

let server: RunningServer;
let anon: Client;
let alice: Client;
let bob: Client;
let admin: Client;

const json = (body: unknown) => ({
	method: 'PUT',
	body: JSON.stringify(body),
	headers: { 'content-type': 'application/json', accept: 'application/json' }
});

function notebook(source: string) {
	return {
		cells: [{ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null }],
		metadata: {},
		nbformat: 4,
		nbformat_minor: 5
	};
}

async function getNotebook(c: Client, slug = MODULE) {
	const res = await c.fetch(`/api/me/notebooks/${slug}`);
	expect(res.status).toBe(200);
	return (await res.json()) as {
		module: string;
		edited: boolean;
		newerOriginal: boolean;
		updatedAt: string;
		content: { cells: { source: string | string[] }[] };
	};
}
const firstSource = (nb: { content: { cells: { source: string | string[] }[] } }) => {
	const s = nb.content.cells[0]!.source;
	return Array.isArray(s) ? s.join('') : s;
};

beforeAll(async () => {
	({
		server,
		anon,
		students: [alice, bob],
		admin
	} = await startAppWithUsers(ADMIN, ['notebook.alice@example.com', 'notebook.bob@example.com']));
});
afterAll(async () => {
	await server?.stop();
	await server?.dropDatabase();
});

describe('notebook API', () => {
	it('needs a signed-in user', async () => {
		for (const [method, url] of [
			['GET', '/api/me/notebooks'],
			['GET', `/api/me/notebooks/${MODULE}`],
			['PUT', `/api/me/notebooks/${MODULE}`],
			['POST', `/api/me/notebooks/${MODULE}/reset`]
		] as const) {
			const res = await anon.fetch(url, {
				method,
				headers: { 'content-type': 'application/json', accept: 'application/json' },
				body: method === 'GET' ? undefined : JSON.stringify({ content: notebook('x') })
			});
			expect(res.status, `${method} ${url}`).toBe(401);
		}
	});

	it('lists a notebook for each starter module, all unedited at first', async () => {
		const res = await alice.fetch('/api/me/notebooks');
		expect(res.status).toBe(200);
		expect(res.headers.get('cache-control')).toBe('no-store');
		const { notebooks } = (await res.json()) as {
			notebooks: { module: string; name: string; edited: boolean }[];
		};
		expect(notebooks).toHaveLength(7);
		expect(notebooks[0]).toMatchObject({
			module: MODULE,
			name: `${MODULE}.ipynb`,
			edited: false
		});
		const original = await getNotebook(alice);
		expect(original.edited).toBe(false);
		expect(firstSource(original)).toContain('Values and types');
	});

	it("saves a student's copy and keeps it from every other student", async () => {
		const before = await getNotebook(bob);
		const saved = await alice.fetch(
			`/api/me/notebooks/${MODULE}`,
			json({ content: notebook('x = 41 + 1') })
		);
		expect(saved.status).toBe(200);
		const item = (await saved.json()) as { edited: boolean; updatedAt: string; content?: unknown };
		expect(item.edited).toBe(true);
		expect(item.content).toBeUndefined();

		const mine = await getNotebook(alice);
		expect(mine.edited).toBe(true);
		expect(firstSource(mine)).toBe('x = 41 + 1');
		// The lab compares this with the save's answer to tell "changed on disk": they must agree.
		expect(mine.updatedAt).toBe(item.updatedAt);

		const theirs = await getNotebook(bob);
		expect(theirs.edited).toBe(false);
		expect(firstSource(theirs)).toBe(firstSource(before));
	});

	it('answers bad input with a clear 4xx and changes nothing', async () => {
		const url = `/api/me/notebooks/${MODULE}`;
		const cases: [RequestInit & { headers?: Record<string, string> }, number][] = [
			[{ method: 'PUT', body: '{not json', headers: { 'content-type': 'application/json' } }, 400],
			[{ method: 'PUT', body: 'x=1', headers: { 'content-type': 'text/plain' } }, 415],
			[json({}), 400],
			[json({ content: { ...notebook('y'), nbformat: 3 } }), 422],
			[json({ content: { ...notebook('y'), cells: [{ cell_type: 'code', source: 1 }] } }), 422],
			[json({ content: notebook('#'.repeat(1_100_000)) }), 413]
		];
		for (const [init, status] of cases) {
			const res = await alice.fetch(url, init as never);
			expect(res.status, String(init.body).slice(0, 40)).toBe(status);
			const body = (await res.json()) as { message: string };
			expect(body.message.length).toBeGreaterThan(10);
		}
		expect(firstSource(await getNotebook(alice))).toBe('x = 41 + 1');
		expect((await alice.fetch('/api/me/notebooks/no-such-module')).status).toBe(404);
		expect((await alice.fetch('/api/me/notebooks/..%2Fetc')).status).toBe(404);
		expect(
			(await alice.fetch(`/api/me/notebooks/no-such-module`, json({ content: notebook('z') })))
				.status
		).toBe(404);
	});

	it('never overwrites a saved copy on a course update, and says a newer original exists', async () => {
		const parsed = parsePack(await readPackDir(STARTER));
		if (!parsed.ok) throw new Error('starter pack is invalid');
		const files = await readPackDir(STARTER);
		const dir = readdirSync(STARTER).find((d) => d.endsWith(`-${MODULE}`))!;
		const nbFile = `${dir}/notebook.ipynb`;
		const updated = JSON.parse(files.get(nbFile)!);
		updated.cells.unshift({
			cell_type: 'markdown',
			metadata: {},
			source: 'Updated by the course team.'
		});
		files.set(nbFile, JSON.stringify(updated, null, 1));
		const zip = zipSync(Object.fromEntries([...files].map(([k, v]) => [`pack/${k}`, strToU8(v)])));
		const form = new FormData();
		form.append('pack', new Blob([zip], { type: 'application/zip' }), 'pack.zip');
		const imported = await admin.fetch('/api/admin/content/import', { method: 'POST', body: form });
		expect(imported.status).toBe(200);

		const mine = await getNotebook(alice);
		expect(firstSource(mine)).toBe('x = 41 + 1');
		expect(mine).toMatchObject({ edited: true, newerOriginal: true });

		const theirs = await getNotebook(bob);
		expect(theirs).toMatchObject({ edited: false, newerOriginal: false });
		expect(firstSource(theirs)).toBe('Updated by the course team.');
	});

	it("resets to the course's current version, for that student only", async () => {
		await bob.fetch(`/api/me/notebooks/${MODULE}`, json({ content: notebook('bob = 1') }));
		const res = await alice.fetch(`/api/me/notebooks/${MODULE}/reset`, {
			method: 'POST',
			headers: { accept: 'application/json' }
		});
		expect(res.status).toBe(200);
		const mine = await getNotebook(alice);
		expect(mine).toMatchObject({ edited: false, newerOriginal: false });
		expect(firstSource(mine)).toBe('Updated by the course team.');
		expect(firstSource(await getNotebook(bob))).toBe('bob = 1');
	});

	it('downloads the notebook as a file', async () => {
		const res = await bob.fetch(`/api/me/notebooks/${MODULE}?download=1`);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-disposition')).toContain(`${MODULE}.ipynb`);
		expect(JSON.parse(await res.text()).nbformat).toBe(4);
	});
});

describe('the lab site as served', () => {
	it('serves the page and the config with isolation headers, revalidated on every load', async () => {
		for (const url of ['/jupyterlite/lab/index.html', '/jupyterlite/jupyter-lite.json']) {
			const res = await anon.fetch(url);
			expect(res.status, url).toBe(200);
			expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
			expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
			expect(res.headers.get('cache-control')).toBe('no-cache');
		}
	});

	it('serves .wasm and .mjs with their types, hashed files immutable', async () => {
		const wasm = await anon.fetch('/jupyterlite/pyodide/pyodide.asm.wasm', { method: 'HEAD' });
		expect(wasm.headers.get('content-type')).toBe('application/wasm');
		const mjs = await anon.fetch('/jupyterlite/pyodide/pyodide.mjs', { method: 'HEAD' });
		expect(mjs.headers.get('content-type')).toMatch(/^text\/javascript/);
		const bundle = readdirSync(path.join(SITE, 'build')).find((f) =>
			/^bundle\.[0-9a-f]{12}\.js$/.test(f)
		)!;
		const js = await anon.fetch(`/jupyterlite/build/${bundle}`, { method: 'HEAD' });
		expect(js.status).toBe(200);
		expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
	});
});

describe('the built lab configuration', () => {
	it('names no other host: every URL in jupyter-lite.json and the pages is local', () => {
		const texts = [
			readFileSync(path.join(SITE, 'jupyter-lite.json'), 'utf8'),
			readFileSync(path.join(SITE, 'lab', 'index.html'), 'utf8'),
			readFileSync(path.join(SITE, 'index.html'), 'utf8'),
			...readdirSync(path.join(SITE, 'pyodide'))
				.filter((f) => f.endsWith('.json'))
				.map((f) => readFileSync(path.join(SITE, 'pyodide', f), 'utf8'))
		];
		// The HTML pages may mention the SVG namespace; nothing else may name a host.
		const urls = texts.flatMap(
			(t) => t.match(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'<>)]*/gi) ?? []
		);
		const foreign = urls.filter(
			(u) => !/^https?:\/\/(?:127\.0\.0\.1|localhost)(?::\d+)?\//.test(u)
		);
		expect(foreign).toEqual([]);
		const config = JSON.parse(texts[0]!)['jupyter-config-data'];
		const kernel = config.litePluginSettings['@jupyterlite/pyodide-kernel-extension:kernel'];
		expect(kernel.pyodideUrl).toBe('./pyodide/pyodide.mjs');
		expect(kernel.disablePyPIFallback).toBe(true);
		expect(kernel.pipliteUrls).toEqual([]);
		expect(kernel.loadPyodideOptions.packages).toEqual(
			expect.arrayContaining([
				'micropip',
				'piplite',
				'pyodide-kernel',
				'ipykernel',
				'comm',
				'ipython',
				'jedi'
			])
		);
	});

	it('ships a NOTICE naming Pyodide under MPL-2.0 and no unlicensed prebuilt site', () => {
		const notice = readFileSync(path.join(SITE, 'NOTICE'), 'utf8');
		expect(notice).toMatch(/Pyodide[\s\S]*MPL-2\.0/);
		expect(notice).not.toContain('@galaxyproject/jupyterlite');
		expect(notice).toContain('python3-ipython');
	});
});

describe('notebook validation', () => {
	it('accepts nbformat 4 and rejects everything else with a reason', () => {
		expect(checkNotebook(notebook('print(1)')).ok).toBe(true);
		const bad: unknown[] = [
			null,
			[],
			{ ...notebook('x'), nbformat: 3 },
			{ ...notebook('x'), metadata: [] },
			{ ...notebook('x'), cells: {} },
			{ ...notebook('x'), cells: [{ cell_type: 'python', source: '', metadata: {} }] },
			{ ...notebook('x'), cells: [{ cell_type: 'code', source: '', metadata: {} }] }
		];
		for (const value of bad) {
			const result = checkNotebook(value);
			expect(result.ok, JSON.stringify(value)).toBe(false);
			if (!result.ok) expect(result.message.length).toBeGreaterThan(5);
		}
		expect(checkNotebook(notebook('x'.repeat(300)), 200).ok).toBe(false);
	});

	it('reports a broken notebook.ipynb in a pack with its file', async () => {
		const files = await readPackDir(STARTER);
		const dir = readdirSync(STARTER).find((d) => d.endsWith(`-${MODULE}`))!;
		files.set(`${dir}/notebook.ipynb`, '{"nbformat": 4, "cells": [');
		const parsed = parsePack(files);
		expect(parsed.ok).toBe(false);
		if (!parsed.ok)
			expect(parsed.errors).toContainEqual(
				expect.objectContaining({
					file: `${dir}/notebook.ipynb`,
					message: expect.stringContaining('JSON')
				})
			);
	});
});
