import { error } from '@sveltejs/kit';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { RequestHandler } from './$types';

/**
 * Pyodide, served by the app itself from the npm `pyodide` package: the lesson workspace never
 * asks a CDN for anything. The version is in the path, so a file never changes under its URL.
 */
const require = createRequire(path.join(process.cwd(), 'package.json'));
const dir = path.dirname(require.resolve('pyodide/package.json'));
const { version } = require('pyodide/package.json') as { version: string };

const FILES: Record<string, string> = {
	'pyodide.mjs': 'text/javascript; charset=utf-8',
	'pyodide.asm.mjs': 'text/javascript; charset=utf-8',
	'pyodide.asm.wasm': 'application/wasm',
	'python_stdlib.zip': 'application/zip',
	'pyodide-lock.json': 'application/json'
};

export const GET: RequestHandler = async ({ params, request }) => {
	const type = Object.hasOwn(FILES, params.file) ? FILES[params.file] : undefined;
	if (params.version !== version || !type) error(404, 'Not found');
	const file = path.join(dir, params.file);
	const info = await stat(file);
	const etag = `"${version}-${info.size}"`;
	const headers = {
		'content-type': type,
		'cache-control': 'public, max-age=31536000, immutable',
		etag,
		// The lab page is cross-origin isolated; same-origin resources need no CORP, but say it.
		'cross-origin-resource-policy': 'same-origin'
	};
	if (request.headers.get('if-none-match') === etag)
		return new Response(null, { status: 304, headers });
	return new Response(Readable.toWeb(createReadStream(file)) as ReadableStream, {
		headers: { ...headers, 'content-length': String(info.size) }
	});
};
