// Entry of the lab's app bundle. Reads the site's jupyter-lite.json (one folder above build/),
// turns its "./" URLs into absolute paths under the site, writes the result into the page's
// #jupyter-config-data (which @jupyterlab/coreutils' PageConfig reads) and then starts the app.
// Nothing here may import @jupyterlab/*: PageConfig caches the config on first use.

const script = document.currentScript;
const siteRoot = new URL('../', script ? script.src : window.location.href);

/** "./x" → "/jupyterlite/x" for every *Url / *Urls key (JupyterLite's convention). */
function absolutize(config) {
	const base = siteRoot.pathname;
	const fix = (value) =>
		typeof value === 'string' && value.startsWith('./') ? base + value.slice(2) : value;
	for (const [key, value] of Object.entries(config)) {
		if (key === 'litePluginSettings' || key === 'settingsOverrides') {
			for (const plugin of Object.values(value || {})) absolutize(plugin);
		} else if (key.endsWith('Url') && key !== 'themesUrl') {
			config[key] = fix(value);
		} else if (key.endsWith('Urls') && Array.isArray(value)) {
			config[key] = value.map(fix);
		}
	}
	return config;
}

function showFatal(message) {
	const box = document.getElementById('lab-loading');
	if (box) {
		box.setAttribute('role', 'alert');
		box.textContent = message;
	}
}

async function start() {
	const response = await fetch(new URL('jupyter-lite.json', siteRoot), { cache: 'no-cache' });
	if (!response.ok) throw new Error(`jupyter-lite.json: HTTP ${response.status}`);
	const lite = await response.json();
	const config = absolutize(lite['jupyter-config-data'] || {});
	const el = document.getElementById('jupyter-config-data');
	el.textContent = JSON.stringify(config);
	const { main } = await import('./generated/index.js');
	await main();
	document.getElementById('lab-loading')?.remove();
}

start().catch((error) => {
	console.error(error);
	showFatal(`The lab could not start: ${error.message}. Reload the page to try again.`);
});
