// Builds the production server entry (src/serve.ts) next to adapter-node's output in build/.
import { defineConfig } from 'vite';

export default defineConfig({
	build: {
		ssr: 'src/serve.ts',
		outDir: 'build',
		emptyOutDir: false,
		target: 'node24',
		sourcemap: true,
		rollupOptions: { output: { entryFileNames: 'app.js' } }
	},
	ssr: { target: 'node' }
});
