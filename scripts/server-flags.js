// The Node flags the server runs with: those of `npm start` in package.json. `npm run serve` and the
// Dockerfile's ENTRYPOINT carry the same (tests/deploy.spec.ts checks), and the benchmarks and the
// tests that start `build/app.js` use these, so they measure and test the server as it is deployed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root } from './build-if-stale.js';

const { scripts } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** @type {string[]} For example `['--max-semi-space-size=8']`. */
export const serverNodeFlags = scripts.start.match(/(?<=\s)--[\w-]+(?:=\S+)?/g) ?? [];
