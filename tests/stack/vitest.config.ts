import { defineConfig } from 'vitest/config';

// `npm run test:stack` only (tests/stack/run.sh starts the stack first); one file, in order.
export default defineConfig({
	test: {
		include: ['tests/stack/**/*.spec.ts'],
		environment: 'node',
		expect: { requireAssertions: true },
		testTimeout: 120_000,
		hookTimeout: 300_000,
		fileParallelism: false
	}
});
