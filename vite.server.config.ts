// Builds the Node entries next to adapter-node's output in build/: the production server
// (src/serve.ts → build/app.js) and the content pack CLI (src/cli/content.ts → build/content.js).
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
			input: { app: 'src/serve.ts', content: 'src/cli/content.ts' },
			output: { entryFileNames: '[name].js', chunkFileNames: 'node-chunks/[name]-[hash].js' }
		}
	},
	ssr: { target: 'node' }
});
