/**
 * Development only: what src/serve.ts is to production. It starts the services on the first request,
 * serves the `/ws/` app with them and hands them to every request SvelteKit serves. They are kept
 * here, outside Vite's module graph, so an edit reloads routes but never opens the database twice
 * (restart `npm run dev` to reload the services themselves).
 *
 * @example
 * sveltekit({ adapter: withDevPlatform(adapter()) }), devEntryPlugin()
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { Adapter } from '@sveltejs/kit';
import type { Plugin } from 'vite';
import { handOver } from '../src/lib/server/http/handover.ts';
import type { Services } from '../src/lib/server/services.ts';

// adapter-node gives SvelteKit `event.platform.req` in production only. In `vite dev` the request
// is found here instead: the middleware below runs the rest of Vite's chain inside `serving`.
const serving = new AsyncLocalStorage<IncomingMessage>();
let devServer = false;

/** The adapter, with `event.platform.req` (and so the services) in `vite dev` as in production. */
export function withDevPlatform(adapter: Adapter): Adapter {
	return {
		...adapter,
		// Asked once the config is resolved: only `vite dev` emulates; builds and `vite preview` don't.
		emulate: () =>
			devServer
				? {
						platform: () => {
							const req = serving.getStore();
							if (!req) throw new Error('vite dev: a request reached SvelteKit past the dev entry');
							return { req };
						}
					}
				: {}
	};
}

export function devEntryPlugin(): Plugin {
	let started: Promise<{ services: Services; stop: () => Promise<void> }> | undefined;
	return {
		name: 'ai-coding-tutor:dev-entry',
		apply: 'serve',
		config(_, env) {
			devServer = !env.isPreview;
		},
		async configureServer(server) {
			if (!server.httpServer) return;
			// Loaded through Vite, like the routes, so TypeScript and `#lib` imports resolve.
			const load = (path: string) => server.ssrLoadModule(path);
			const start = () =>
				(started ??= (async () => {
					const { loadEnvFile } = await load('/src/lib/server/env-file.ts');
					loadEnvFile();
					const { startServices, stopServices } = await load('/src/lib/server/services.ts');
					const services: Services = await startServices(process.env);
					return { services, stop: () => stopServices(services, 0) };
				})());
			// Before Vite's own middleware and SvelteKit's, which runs inside `serving`.
			server.middlewares.use((req, _res, next) => {
				start().then(({ services }) => {
					handOver(req, services);
					serving.run(req, next);
				}, next);
			});
			const { attachWebSockets } = await load('/src/lib/server/ws/attach.ts');
			attachWebSockets(
				server.httpServer,
				async () => {
					const { createWsApp } = await load('/src/lib/server/ws/app.ts');
					return createWsApp((await start()).services);
				},
				{ maxPayload: 1 << 20, exclusive: false }
			);
		},
		// The dev server is closing (quit, or a restart after a config edit): close the database.
		async buildEnd() {
			const running = await started?.catch(() => undefined);
			started = undefined;
			await running?.stop();
		}
	};
}
