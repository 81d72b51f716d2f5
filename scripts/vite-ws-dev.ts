/**
 * Development only: serves the same `/ws/` Hono app from Vite's dev server, loaded through Vite so
 * it shares SvelteKit's modules (and so its runtime) and picks up edits.
 */
import type { Plugin } from 'vite';

export function wsDevPlugin(): Plugin {
	return {
		name: 'ai-coding-tutor:ws-dev',
		apply: 'serve',
		async configureServer(server) {
			if (!server.httpServer) return;
			const load = (path: string) => server.ssrLoadModule(path);
			const { attachWebSockets } = await load('/src/lib/server/ws/attach.ts');
			attachWebSockets(
				server.httpServer,
				async () => {
					const { loadEnvFile } = await load('/src/lib/server/env-file.ts');
					loadEnvFile();
					const { startRuntime } = await load('/src/lib/server/runtime.ts');
					await startRuntime(process.env);
					const { createWsApp } = await load('/src/lib/server/ws/app.ts');
					return createWsApp();
				},
				{ maxPayload: 1 << 20, exclusive: false }
			);
		}
	};
}
