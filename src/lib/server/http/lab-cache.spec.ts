import { describe, expect, it } from 'vitest';
import { labCacheControl } from './isolation';

describe('cache lifetimes of the Python lab', () => {
	it('keeps content-hashed files for a year', () => {
		for (const url of [
			'/jupyterlite/build/bundle.0123456789ab.js',
			'/jupyterlite/build/comlink.worker.c654f1f92d96.js',
			'/jupyterlite/pyodide/tutor-lock.f09cfd7ab6d6.json'
		])
			expect(labCacheControl(url), url).toBe('public, max-age=31536000, immutable');
	});

	it('revalidates the pages and the configuration on every load', () => {
		for (const url of [
			'/jupyterlite',
			'/jupyterlite/',
			'/jupyterlite/lab/index.html',
			'/jupyterlite/lab/index.html?path=x.ipynb',
			'/jupyterlite/jupyter-lite.json',
			'/jupyterlite/NOTICE'
		])
			expect(labCacheControl(url), url).toBe('no-cache');
	});

	it('keeps unhashed runtime files for an hour', () => {
		for (const url of [
			'/jupyterlite/pyodide/pyodide.asm.wasm',
			'/jupyterlite/pyodide/ipython-8.5.0-py3-none-any.whl'
		])
			expect(labCacheControl(url), url).toBe('public, max-age=3600');
	});

	it('says nothing outside the lab', () => {
		expect(labCacheControl('/learn')).toBeUndefined();
		expect(labCacheControl(undefined)).toBeUndefined();
	});
});
