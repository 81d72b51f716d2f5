/** Where the Python lab opens a module's notebook (static/jupyterlite/, built by build:jupyterlite). */
export function labUrl(moduleSlug: string): string {
	return `/jupyterlite/lab/index.html?path=${encodeURIComponent(`${moduleSlug}.ipynb`)}`;
}

/** What a page knows about a module's notebook for the signed-in student. */
export interface NotebookSummary {
	module: string;
	title: string;
	edited: boolean;
	newerOriginal: boolean;
	updatedAt: string;
}
