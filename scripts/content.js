// `npm run content:import -- <folder>` / `npm run content:export -- <folder>`: builds when the
// sources changed (like `npm start`), then runs build/content.js (folders are relative to where npm was run).
import { pathToFileURL } from 'node:url';
import { buildIfStale } from './build-if-stale.js';

const entry = buildIfStale('content.js', { stderr: true });
await import(pathToFileURL(entry).href);
