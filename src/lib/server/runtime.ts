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

export interface Runtime {
	config: Config;
	database: Database;
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
		return { config, database };
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
	await started.database.close();
}
