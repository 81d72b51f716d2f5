/**
 * Cross-origin isolation for the in-browser Python lab. Pyodide's threads need SharedArrayBuffer,
 * which browsers only allow on pages served with COOP `same-origin` and COEP `require-corp`.
 *
 * adapter-node serves `/jupyterlite/` from disk before any SvelteKit hook runs, so the server entry
 * sets these headers itself; Caddy sets the same pair in production (caddy/Caddyfile).
 *
 * @example
 * if (needsIsolation(req.url)) for (const [k, v] of ISOLATION_HEADERS) res.setHeader(k, v);
 */
export const ISOLATION_PREFIX = '/jupyterlite/';

export const ISOLATION_HEADERS: readonly (readonly [string, string])[] = [
	['cross-origin-opener-policy', 'same-origin'],
	['cross-origin-embedder-policy', 'require-corp']
];

/** True for request targets (path and query, as node:http gives them) under the lab. */
export function needsIsolation(url: string | undefined): boolean {
	return url !== undefined && /^\/jupyterlite(?:[/?]|$)/.test(url);
}

/**
 * Cache lifetimes for the lab's static files (static/jupyterlite/, made by build:jupyterlite):
 * content-hashed names (the app bundle's chunks, the Pyodide lock file) never change, so browsers
 * keep them a year; the pages and jupyter-lite.json are revalidated on every load (cheap with
 * ETags), so a rebuilt site is picked up at once; everything else (Pyodide, wheels, schemas,
 * themes) for an hour. Undefined outside the lab.
 */
export function labCacheControl(url: string | undefined): string | undefined {
	if (!needsIsolation(url)) return undefined;
	const pathname = url!.split('?')[0]!;
	if (/\.[0-9a-f]{12}\.(?:js|json|css|woff2?|ttf|eot|svg|png|gif)$/.test(pathname))
		return 'public, max-age=31536000, immutable';
	if (/(?:\/|\.html|\.json|\/NOTICE)$/.test(pathname) || pathname === '/jupyterlite')
		return 'no-cache';
	return 'public, max-age=3600';
}
