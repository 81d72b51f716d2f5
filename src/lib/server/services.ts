/**
 * The process's services (configuration, database, AI provider, tutor engine, Python check runner), built once at start
 * by the server entry and handed down: to SvelteKit through `event.locals.services`, to the `/ws/`
 * app as an argument. Nothing looks them up.
 *
 * @example
 * const services = await startServices(process.env);
 * const sockets = attachWebSockets(server, createWsApp(services), options);
 * await stopServices(services);
 */
import * as adminSetup from './admin/setup';
import * as background from './background';
import { loadConfig, type Config } from './config';
import { openDatabase, type Database } from './db';
import { createLogger, logger, setLogger } from './log';
import { createProvider } from './ai/providers';
import type { Provider } from './ai/types';
import { seedStarterContent } from './learn/content';
import { seedQuestionBank } from './practice/bank';
import { createEmbedder, startEmbedding, type Embedder } from './learn/embeddings';
import { setActiveGenerationsSource, setPythonChecksSource } from './metrics';
import { PythonRunner } from './python/runner';
import { TutorEngine } from './tutor/engine';
import { createOfflineProvider, FALLBACK_LABEL } from './tutor/offline';
import * as retrieval from './tutor/retrieval';
import { listenForSignOuts } from './ws/sessions';

export interface Services {
	config: Config;
	database: Database;
	provider: Provider;
	tutor: TutorEngine;
	/** Runs exercise checks on submitted code; its worker threads start with the first check. */
	python: PythonRunner;
	/** True once shutdown began: a socket's message is then turned away rather than served. */
	stopping: boolean;
	/** Ends the background embedding of lessons (nothing to end without an embedding provider). */
	stopEmbedding: () => void;
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

/** Reads the configuration from `env`, opens and migrates the database, starts the tutor. */
export async function startServices(env: Record<string, string | undefined>): Promise<Services> {
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
	const stopEmbedding = embedder ? startEmbedding(database.db, embedder) : () => {};
	const { provider, tutor } = await startTutor(config, database, embedder);
	setActiveGenerationsSource(() => tutor.activeGenerations);
	if (database.kind === 'postgres') await listenForSignOuts(database);
	const python = new PythonRunner({ ...config.python, size: config.python.workers });
	setPythonChecksSource(() => python.stats);
	return { config, database, provider, tutor, python, stopping: false, stopEmbedding };
}

/** Lets running answers finish for up to `graceMs` (default SHUTDOWN_GRACE_SECONDS), then closes. */
export async function stopServices(services: Services, graceMs?: number) {
	if (services.stopping) return;
	services.stopping = true;
	services.stopEmbedding();
	setActiveGenerationsSource(() => 0);
	await services.tutor.close(graceMs ?? services.config.shutdownGraceSeconds * 1000);
	await services.python.close();
	await background.settled(); // a reset or verification mail on its way
	await services.database.close();
}
