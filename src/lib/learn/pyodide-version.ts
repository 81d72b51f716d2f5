import pkg from 'pyodide/package.json' with { type: 'json' };

/** Where the app serves Pyodide (see src/routes/pyodide): versioned, so it can be cached forever. */
export const PYODIDE_URL = `/pyodide/${pkg.version}/`;
