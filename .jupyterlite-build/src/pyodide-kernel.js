// The Pyodide kernel, registered by the tutor's lab instead of
// @jupyterlite/pyodide-kernel-extension:kernel (adapted from it; BSD-3-Clause, Jupyter Development
// Team). Differences: no CDN fallback (pyodideUrl must be configured), and the server drive is
// never mounted into Python's file system. The lab's files are the module notebooks on the tutor
// server; mounting them would make every import scan the drive through synchronous calls to the
// page, which is slow and raced at start-up ("Bad control character in JSON" fatal errors).
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ILoggerRegistry } from '@jupyterlab/logconsole';
import { IKernelSpecs } from '@jupyterlite/services';
import KERNEL_ICON_SVG_STR from '@jupyterlite/pyodide-kernel-extension/style/img/pyodide.svg';

const PLUGIN_ID = '@jupyterlite/pyodide-kernel-extension:kernel';
const KERNEL_ICON_URL = `data:image/svg+xml;base64,${btoa(KERNEL_ICON_SVG_STR)}`;

const kernelPlugin = {
	id: 'ai-coding-tutor:pyodide-kernel',
	description: 'The Pyodide kernel, served by the lab itself.',
	autoStart: true,
	requires: [IKernelSpecs],
	optional: [ILoggerRegistry],
	activate: (app, kernelspecs, loggerRegistry) => {
		const { sessions } = app.serviceManager;
		// Settings keep the upstream plugin's id, so jupyter-lite.json reads like any JupyterLite site.
		const config = JSON.parse(PageConfig.getOption('litePluginSettings') || '{}')[PLUGIN_ID] || {};
		if (!config.pyodideUrl) throw new Error('The lab has no pyodideUrl configured.');
		const baseUrl = PageConfig.getBaseUrl();
		const pyodideUrl = URLExt.parse(config.pyodideUrl).href;
		const pipliteUrls = (config.pipliteUrls || []).map((u) => URLExt.parse(u).href);
		const loadPyodideOptions = { ...(config.loadPyodideOptions || {}) };
		for (const [key, value] of Object.entries(loadPyodideOptions)) {
			if (key.endsWith('URL') && typeof value === 'string') {
				loadPyodideOptions[key] = new URL(value, baseUrl).href;
			}
		}
		const logger = async ({ payload, kernelId }) => {
			if (!loggerRegistry) return;
			let sessionPath = '';
			for (const session of sessions.running()) {
				if (session.kernel?.id === kernelId) {
					sessionPath = session.path;
					break;
				}
			}
			loggerRegistry.getLogger(sessionPath).log(payload);
		};
		kernelspecs.register({
			spec: {
				name: 'python',
				display_name: 'Python (Pyodide)',
				language: 'python',
				argv: [],
				resources: { 'logo-32x32': KERNEL_ICON_URL, 'logo-64x64': KERNEL_ICON_URL }
			},
			create: async (options) => {
				const { PyodideKernel } = await import('@jupyterlite/pyodide-kernel');
				return new PyodideKernel({
					...options,
					pyodideUrl,
					pipliteUrls,
					disablePyPIFallback: !!config.disablePyPIFallback,
					mountDrive: false,
					loadPyodideOptions,
					contentsManager: app.serviceManager.contents,
					logger
				});
			}
		});
	}
};

export default [kernelPlugin];
