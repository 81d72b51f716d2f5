// The lab's default drive: the student's module notebooks, kept on the tutor's server.
//
// Replaces JupyterLite's in-browser (IndexedDB) drive so nothing lives only in the browser. It talks
// to the app's JSON endpoints under /api/me/notebooks (same origin, the session cookie goes along):
//   GET  /api/me/notebooks            → { notebooks: [{ module, name, title, edited, newerOriginal, updatedAt }] }
//   GET  /api/me/notebooks/:module    → { module, name, title, content, edited, newerOriginal, updatedAt }
//   PUT  /api/me/notebooks/:module    ← { content }        → same shape as GET
// Files are named "<module-slug>.ipynb" at the root; there are no folders. Creating, renaming,
// deleting and copying files is refused with a clear message: each module has exactly one notebook.
import { Notification } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { IDefaultDrive, ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

const NOTEBOOK_MIME = 'application/x-ipynb+json';

/** The app's origin-relative API root, from jupyter-lite.json ("tutorApiUrl"). */
function apiRoot() {
	return (PageConfig.getOption('tutorApiUrl') || '/api/me/notebooks').replace(/\/?$/, '');
}

function slugOf(path) {
	const clean = String(path || '').replace(/^\/+|\/+$/g, '');
	const match = /^([a-z0-9][a-z0-9-]{0,79})\.ipynb$/.exec(clean);
	return match ? match[1] : null;
}

class DriveError extends Error {
	constructor(message, status) {
		super(message);
		this.name = 'DriveError';
		this.status = status;
	}
}

async function call(url, init = {}) {
	let response;
	try {
		response = await fetch(url, {
			credentials: 'same-origin',
			cache: 'no-store',
			...init,
			headers: { accept: 'application/json', ...(init.headers || {}) }
		});
	} catch {
		throw new DriveError(
			'The tutor server cannot be reached. Your last changes are not saved yet.',
			0
		);
	}
	const body = await response.json().catch(() => null);
	if (!response.ok) {
		const message =
			(body && (body.message || body.error)) ||
			(response.status === 401
				? 'You are signed out. Sign in to the tutor in another tab, then save again.'
				: `The tutor server answered ${response.status}.`);
		throw new DriveError(message, response.status);
	}
	return body;
}

function fileModel(item, content) {
	const model = {
		name: item.name,
		path: item.name,
		type: 'notebook',
		format: content === undefined ? null : 'json',
		mimetype: NOTEBOOK_MIME,
		content: content === undefined ? null : content,
		created: item.createdAt || item.updatedAt || new Date(0).toISOString(),
		last_modified: item.updatedAt || new Date(0).toISOString(),
		writable: true,
		size: undefined,
		hash: undefined,
		hash_algorithm: undefined
	};
	return model;
}

export class ServerDrive {
	constructor(serverSettings) {
		this.name = 'Default';
		this.serverSettings = serverSettings;
		this._fileChanged = new Signal(this);
		this._isDisposed = false;
		this._warned = new Set();
	}

	get fileChanged() {
		return this._fileChanged;
	}

	get isDisposed() {
		return this._isDisposed;
	}

	dispose() {
		if (this._isDisposed) return;
		this._isDisposed = true;
		Signal.clearData(this);
	}

	async get(path, options = {}) {
		const clean = String(path || '').replace(/^\/+|\/+$/g, '');
		if (clean === '') {
			const { notebooks } = await call(apiRoot());
			const wantContent = options.content !== false;
			return {
				name: '',
				path: '',
				type: 'directory',
				format: wantContent ? 'json' : null,
				mimetype: '',
				content: wantContent ? notebooks.map((item) => fileModel(item)) : null,
				created: new Date(0).toISOString(),
				last_modified: new Date().toISOString(),
				writable: false
			};
		}
		const slug = slugOf(clean);
		if (!slug) throw new DriveError(`No such file: ${clean}`, 404);
		const item = await call(`${apiRoot()}/${slug}`);
		this._warnIfNewer(item);
		return fileModel(item, options.content === false ? undefined : item.content);
	}

	async save(path, options = {}) {
		const slug = slugOf(path);
		if (!slug) throw new DriveError('Only module notebooks can be saved in this lab.', 400);
		if (options.type && options.type !== 'notebook') {
			throw new DriveError('Only notebooks can be saved in this lab.', 400);
		}
		if (options.content === undefined || options.content === null) {
			// A save without content (e.g. a touch): answer with the current model.
			return this.get(path, { content: false });
		}
		const item = await call(`${apiRoot()}/${slug}`, {
			method: 'PUT',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ content: options.content })
		});
		const model = fileModel(item);
		this._fileChanged.emit({ type: 'save', oldValue: null, newValue: model });
		return model;
	}

	async getDownloadUrl(path) {
		const slug = slugOf(path);
		if (!slug) throw new DriveError(`No such file: ${path}`, 404);
		return URLExt.join(window.location.origin, `${apiRoot()}/${slug}?download=1`);
	}

	async newUntitled() {
		throw new DriveError(
			'This lab holds one notebook per module, saved on the tutor server. New files cannot be created here.',
			400
		);
	}

	async delete() {
		throw new DriveError(
			'Module notebooks cannot be deleted. Use "Reset to the original" on the module page instead.',
			400
		);
	}

	async rename() {
		throw new DriveError('Module notebooks cannot be renamed.', 400);
	}

	async copy() {
		throw new DriveError('Module notebooks cannot be copied here.', 400);
	}

	async createCheckpoint(path) {
		// Every save is kept on the server; there are no separate checkpoints.
		return { id: 'server', last_modified: new Date().toISOString(), path };
	}

	async listCheckpoints() {
		return [];
	}

	async restoreCheckpoint() {
		throw new DriveError('Use "Reset to the original" on the module page to start over.', 400);
	}

	async deleteCheckpoint() {}

	_warnIfNewer(item) {
		if (!item.newerOriginal || this._warned.has(item.module)) return;
		this._warned.add(item.module);
		Notification.info(
			`The course has a newer version of "${item.title}". Your copy is kept; reset it from the module page to get the new one.`,
			{ autoClose: false }
		);
	}
}

/** Provides the server drive as JupyterLab's default drive (replaces the in-browser one). */
const serverDrivePlugin = {
	id: 'ai-coding-tutor:server-drive',
	description: "The student's module notebooks, saved on the tutor server.",
	autoStart: true,
	provides: IDefaultDrive,
	activate: () => new ServerDrive(ServerConnection.makeSettings())
};

export default [serverDrivePlugin];
