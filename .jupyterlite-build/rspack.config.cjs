// rspack configuration of the lab's app bundle (JupyterLab UI + JupyterLite services + Pyodide
// kernel + the tutor's server drive). Run by scripts/build-jupyterlite.ts; do not run by hand.
// Every extension is imported statically (src/index.js): no module federation, no remote code.
const fs = require('node:fs');
const path = require('node:path');
const rspack = require('@rspack/core');
const { Build } = require('@jupyter/builder');
const baseConfig = require('@jupyter/builder/lib/webpack.config.base');

const outDir = process.env.JUPYTERLITE_OUT || path.resolve(__dirname, 'out');
const buildDir = path.join(outDir, 'build');

// Extensions whose schemas, themes and styles the app needs (same list as src/index.js).
const { extensions } = require('./src/extensions.json');

// The entry that imports every extension statically, made from src/index.template.js.
const { disabled } = require('./src/extensions.json');
const requires = extensions
	.map((name) => {
		const { extension, mimeExtension } = require(`${name}/package.json`).jupyterlab;
		const lines = [];
		if (extension !== undefined) {
			const target = extension === true ? name : `${name}/${extension}`;
			lines.push(`\tplugins.push(...pluginsOf(require('${target}')));`);
		}
		if (mimeExtension !== undefined) {
			const target = mimeExtension === true ? name : `${name}/${mimeExtension}`;
			lines.push(`\tmimeExtensions.push(...pluginsOf(require('${target}')));`);
		}
		return lines.join('\n');
	})
	.join('\n');
fs.mkdirSync(path.join(__dirname, 'src', 'generated'), { recursive: true });
fs.writeFileSync(
	path.join(__dirname, 'src', 'generated', 'index.js'),
	fs
		.readFileSync(path.join(__dirname, 'src', 'index.template.js'), 'utf8')
		.replace('/* DISABLED */ []', JSON.stringify(disabled))
		.replace('// REQUIRES', requires)
);

// Copies each extension's settings schemas to build/schemas and returns the theme configs.
const themeConfigs = Build.ensureAssets({
	packageNames: extensions,
	output: path.join(__dirname, 'src', 'generated'),
	schemaOutput: buildDir,
	themeOutput: buildDir
}).map((config) => ({ ...config, stats: 'errors-warnings' }));

/** The base rules of @jupyter/builder (CSS, fonts, svg, raw text) minus its mode/devtool. */
const baseRules = baseConfig.module.rules;

module.exports = [
	{
		mode: 'production',
		devtool: false,
		context: __dirname,
		entry: { bundle: './src/bootstrap.js' },
		stats: 'errors-warnings',
		performance: { hints: false },
		resolve: {
			fallback: {
				util: false,
				url: false,
				buffer: false,
				crypto: false,
				fs: false,
				path: require.resolve('path-browserify'),
				process: require.resolve('process/browser')
			}
		},
		output: {
			path: buildDir,
			publicPath: 'auto',
			filename: '[name].[contenthash:12].js',
			chunkFilename: '[name].[contenthash:12].js',
			assetModuleFilename: 'assets/[name].[contenthash:12][ext]',
			hashFunction: 'xxhash64',
			clean: false
		},
		module: {
			rules: [
				...baseRules,
				// The kernel's workers are prebuilt ES modules: copy them as they are.
				{
					test: /\.worker\.js$/,
					type: 'asset/resource',
					generator: { filename: '[name].[contenthash:12][ext]' }
				},
				// The kernel's own wheels keep their names (micropip and Pyodide read them).
				{
					test: /[\\/]pyodide-kernel[\\/]pypi[\\/]/,
					type: 'asset/resource',
					generator: { filename: 'pypi/[name][ext]' }
				},
				{
					test: /[\\/]pyodide-kernel-extension[\\/]schema[\\/]/,
					type: 'asset/resource',
					generator: { filename: 'schema/[name][ext]' }
				}
			]
		},
		optimization: {
			moduleIds: 'deterministic',
			chunkIds: 'deterministic',
			realContentHash: false
		},
		plugins: [
			new rspack.DefinePlugin({ 'process.env.NODE_ENV': JSON.stringify('production') }),
			new rspack.ProvidePlugin({ process: 'process/browser' })
		]
	},
	...themeConfigs
];
