// `npm start`: builds when the build is missing or older than the sources, then serves it.
import { buildIfStale, root } from './build-if-stale.js';

const entry = buildIfStale('app.js');
process.chdir(root);
await import(entry);
