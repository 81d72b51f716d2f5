/**
 * The process-wide services (configuration, database, logger), started once.
 *
 * The server entry starts them before SvelteKit loads; SvelteKit's `init` hook and the WebSocket
 * app then find the same instance (it lives on globalThis because they are bundled separately).
 *
 * @example
 * const { config, database } = await startRuntime(process.env);
 */
import * as adminSetup from './admin/setup';
import { loadConfig, type Config } from './config';
import { openDatabase, type Database } from './db';
import { createLogger, logger, setLogger } from './log';
import { createProvider } from './ai/providers';
import type { Provider } from './ai/types';
import { seedStarterContent } from './learn/content';
import { seedQuestionBank } from './practice/bank';
import { createEmbedder, startEmbedding, type Embedder } from './learn/embeddings';
import { setActiveGenerationsSource } from './metrics';
import { TutorEngine } from './tutor/engine';
import { createOfflineProvider, FALLBACK_LABEL } from './tutor/offline';
import * as retrieval from './tutor/retrieval';
import { listenForSignOuts } from './ws/sessions';

export interface Runtime {
	config: Config;
	database: Database;
	provider: Provider;
	tutor: TutorEngine;
}

/** The tutor's provider and session engine on an open database. */
export async function startTutor(
	config: Config,
	database: Database,
	embedder: Embedder | null = createEmbedder(config.embeddings)
) {
	const retrieve = retrieval.createRetriever(database.db, embedder);
	const search = (question: string) => retrieve(question, 3);
	const provider = createProvider(config.llm, { offline: createOfflineProvider(search) });
	// When a budget is reached, the offline tutor answers until the day ends.
	const fallback = createOfflineProvider(search, { label: FALLBACK_LABEL });
	const tutor = new TutorEngine({ database, config, provider, retrieve, fallback });
	await tutor.start();
	return { provider, tutor };
}

let stopEmbedding: (() => void) | null = null;

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
		await seedStarterContent(database.db, config.starterContentDir);
		await seedQuestionBank(database.db, config.questionBankDir);
		const setupCode = await adminSetup.prepare(database.db, config);
		if (setupCode && !config.adminSetupCode)
			logger().warn(
				`No administrator yet. Sign in as ${config.adminEmails.join(' or ')}, open /admin-setup and enter this one-time code: ${setupCode}`
			);
		const embedder = createEmbedder(config.embeddings);
		if (embedder) stopEmbedding = startEmbedding(database.db, embedder);
		const { provider, tutor } = await startTutor(config, database, embedder);
		setActiveGenerationsSource(() => tutor.activeGenerations);
		if (database.kind === 'postgres') await listenForSignOuts(database);
		return { config, database, provider, tutor };
	})();
	return globals[KEY].then((r) => (globals[CURRENT] = r));
}

/** Installs an already-built runtime (tests). */
export function setRuntime(runtime: Runtime) {
	globals[KEY] = Promise.resolve(runtime);
	globals[CURRENT] = runtime;
	setActiveGenerationsSource(() => runtime.tutor.activeGenerations);
}

/**
 * The runtime while it runs; undefined before start-up finished and once shutting down began (a
 * socket that closes during the grace period finds it gone).
 */
export function runtimeIfRunning(): Runtime | undefined {
	return globals[CURRENT];
}

/** The started runtime; throws if called before start-up finished. */
export function runtime(): Runtime {
	const current = runtimeIfRunning();
	if (current) return current;
	throw new Error('runtime not started');
}

/** Lets running answers finish for up to `graceMs` (default SHUTDOWN_GRACE_SECONDS), then closes. */
export async function stopRuntime(graceMs?: number) {
	const started = await globals[KEY];
	if (!started) return;
	globals[KEY] = undefined;
	globals[CURRENT] = undefined;
	stopEmbedding?.();
	stopEmbedding = null;
	setActiveGenerationsSource(() => 0);
	await started.tutor.close(graceMs ?? started.config.shutdownGraceSeconds * 1000);
	await started.database.close();
}
