/**
 * The process-wide services (configuration, database, logger), started once.
 *
 * The server entry starts them before SvelteKit loads; SvelteKit's `init` hook and the WebSocket
 * app then find the same instance (it lives on globalThis because they are bundled separately).
 *
 * @example
 * const { config, database } = await startRuntime(process.env);
 */
import { loadConfig, type Config } from './config';
import { openDatabase, type Database } from './db';
import { createLogger, logger, setLogger } from './log';
import { createProvider } from './ai/providers';
import type { Provider } from './ai/types';
import { TutorEngine } from './tutor/engine';
import { createOfflineProvider } from './tutor/offline';
import * as retrieval from './tutor/retrieval';

export interface Runtime {
	config: Config;
	database: Database;
	provider: Provider;
	tutor: TutorEngine;
}

/** The tutor's provider and session engine on an open database. */
export async function startTutor(config: Config, database: Database) {
	const provider = createProvider(config.llm, {
		offline: createOfflineProvider((question) => retrieval.search(database.db, question, 3))
	});
	const tutor = new TutorEngine({ database, config, provider });
	await tutor.start();
	return { provider, tutor };
}

const KEY = Symbol.for('ai-coding-tutor.runtime');
const CURRENT = Symbol.for('ai-coding-tutor.runtime.current');
type Globals = { [KEY]?: Promise<Runtime>; [CURRENT]?: Runtime };
const globals = globalThis as Globals;

export function startRuntime(env: Record<string, string | undefined>): Promise<Runtime> {
	globals[KEY] ??= (async () => {
		const config = loadConfig(env);
		setLogger(createLogger(config.logLevel));
		for (const warning of config.warnings) logger().warn(warning);
		const database = await openDatabase({
			url: config.databaseUrl,
			dataDir: config.dataDir,
			poolMax: config.databasePoolMax
		});
		logger().info({ database: database.kind }, 'database ready, migrations applied');
		const { provider, tutor } = await startTutor(config, database);
		return { config, database, provider, tutor };
	})();
	return globals[KEY].then((r) => (globals[CURRENT] = r));
}

/** Installs an already-built runtime (tests). */
export function setRuntime(runtime: Runtime) {
	globals[KEY] = Promise.resolve(runtime);
	globals[CURRENT] = runtime;
}

/** The started runtime; throws if called before start-up finished. */
export function runtime(): Runtime {
	const current = globals[CURRENT];
	if (current) return current;
	throw new Error('runtime not started');
}

export async function stopRuntime() {
	const started = await globals[KEY];
	if (!started) return;
	globals[KEY] = undefined;
	globals[CURRENT] = undefined;
	await started.tutor.close(started.config.shutdownGraceSeconds * 1000);
	await started.database.close();
}
