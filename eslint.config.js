import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default ts.config(
	{
		ignores: [
			'build/',
			'.svelte-kit/',
			'node_modules/',
			'drizzle/',
			'static/',
			'data/',
			'test-results/',
			'.jupyterlite-build/node_modules/',
			'.jupyterlite-build/cache/',
			'.jupyterlite-build/out/',
			'.jupyterlite-build/src/generated/'
		]
	},
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	{ languageOptions: { globals: { ...globals.browser, ...globals.node } } },
	{
		files: ['**/*.svelte', '**/*.svelte.ts'],
		languageOptions: { parserOptions: { parser: ts.parser } }
	},
	{
		// The lab's rspack build is CommonJS.
		files: ['.jupyterlite-build/*.cjs'],
		rules: { '@typescript-eslint/no-require-imports': 'off' }
	},
	{
		// One import style: a module in src/lib imports from its own folder with `./`, from anywhere
		// else in src/lib with `#lib/<path>` (the package's subpath import, which plain Node resolves too).
		files: ['src/lib/**/*.ts', 'src/lib/**/*.svelte'],
		ignores: ['**/*.spec.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{ patterns: [{ group: ['../*'], message: 'Import through #lib/<path> instead of ../' }] }
			]
		}
	},
	{
		rules: {
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
			],
			// The app is always served from the site root (no `paths.base`), so plain hrefs are correct.
			'svelte/no-navigation-without-resolve': 'off'
		}
	}
);
