/**
 * Development (`npm run dev`) and `vite preview`: the Python lab's headers, as src/serve.ts sets them
 * in production (cross-origin isolation for Pyodide's SharedArrayBuffer, cache lifetimes).
 */
import type { Connect, Plugin } from 'vite';
import {
	ISOLATION_HEADERS,
	labCacheControl,
	needsIsolation
} from '../src/lib/server/http/isolation.ts';

const labHeaders: Connect.NextHandleFunction = (req, res, next) => {
	if (needsIsolation(req.url)) {
		for (const [name, value] of ISOLATION_HEADERS) res.setHeader(name, value);
		res.setHeader('cache-control', labCacheControl(req.url)!);
	}
	next();
};

export function labDevPlugin(): Plugin {
	return {
		name: 'ai-coding-tutor:lab-headers',
		// Before SvelteKit's plugin, whose middleware answers static files itself.
		enforce: 'pre',
		configureServer(server) {
			server.middlewares.use(labHeaders);
		},
		configurePreviewServer(server) {
			server.middlewares.use(labHeaders);
		}
	};
}
