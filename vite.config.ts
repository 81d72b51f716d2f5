import { sveltekit } from '@sveltejs/kit/vite';
import adapter from '@sveltejs/adapter-node';
import { defineConfig } from 'vite';
import { labDevPlugin } from './scripts/vite-lab-dev.ts';
import { devEntryPlugin, withDevPlatform } from './scripts/vite-dev-entry.ts';

export default defineConfig({
	plugins: [
		sveltekit({
			adapter: withDevPlatform(adapter({ precompress: true })),
			// Forms are protected by SvelteKit's Origin check; no origin is trusted beyond our own.
			csrf: { trustedOrigins: [] },
			csp: {
				mode: 'auto',
				directives: {
					'default-src': ['self'],
					'script-src': ['self'],
					'style-src': ['self', 'unsafe-inline'],
					'img-src': ['self', 'data:'],
					'font-src': ['self'],
					'connect-src': ['self'],
					'object-src': ['none'],
					'base-uri': ['self'],
					'form-action': ['self'],
					'frame-ancestors': ['none']
				}
			}
		}),
		devEntryPlugin(),
		labDevPlugin()
	],
	server: { port: 5173, strictPort: false }
});
