// Builds the Node entries next to adapter-node's output in build/: the production server
// (src/serve.ts → build/app.js), the content pack CLI (src/cli/content.ts → build/content.js) and the
// Python check runner's worker thread (src/lib/server/python/worker.ts → build/python-worker.js).
// Code both use goes to build/node-chunks/.
import { defineConfig } from 'vite';

export default defineConfig({
	build: {
		ssr: true,
		outDir: 'build',
		emptyOutDir: false,
		target: 'node24',
		sourcemap: true,
		rollupOptions: {
			input: {
				app: 'src/serve.ts',
				content: 'src/cli/content.ts',
				'python-worker': 'src/lib/server/python/worker.ts'
			},
			output: { entryFileNames: '[name].js', chunkFileNames: 'node-chunks/[name]-[hash].js' }
		}
	},
	ssr: { target: 'node' }
});
