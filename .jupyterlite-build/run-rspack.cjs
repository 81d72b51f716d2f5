// Runs rspack.config.cjs through rspack's Node API (no CLI needed). Used by scripts/build-jupyterlite.ts.
const { rspack } = require('@rspack/core');
const configs = require('./rspack.config.cjs');
const started = Date.now();
rspack(configs, (error, stats) => {
	if (error) {
		console.error(error);
		process.exit(1);
	}
	const info = stats.toString({ preset: 'errors-warnings', colors: false });
	if (info.trim()) console.log(info);
	if (stats.hasErrors()) process.exit(1);
	console.log(`  app bundle built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
