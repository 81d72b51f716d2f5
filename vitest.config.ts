import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		include: ['src/**/*.spec.ts', 'tests/**/*.spec.ts'],
		// The production stack needs its own Docker daemon: `npm run test:stack`.
		exclude: ['tests/stack/**', 'node_modules/**'],
		environment: 'node',
		expect: { requireAssertions: true },
		testTimeout: 30_000,
		hookTimeout: 60_000,
		// Integration files each get their own database; keep the 2-core machine from thrashing.
		maxWorkers: 2
	}
});
