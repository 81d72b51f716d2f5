/**
 * Opens the database: PostgreSQL through postgres.js when a URL is given, otherwise an embedded
 * PGlite in the data folder. Both run the committed migrations in `drizzle/` before use.
 *
 * @example
 * const database = await openDatabase({ url: process.env.DATABASE_URL, dataDir: './data' });
 * await database.db.select().from(schema.users);
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema';

export { schema };
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The rows of `db.execute(...)`: postgres.js returns an array, PGlite an object holding one. */
export function rowsOf<T>(result: unknown): T[] {
	return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

export interface Database {
	db: Db;
	/**
	 * The same database through connections of its own, for the periodic batch writes (the tutor's
	 * flush, usage rows): postgres.js queues a query behind others on a busy connection, and a
	 * question's statement queued behind a batch of hundreds of rows waited for all of it. PGlite
	 * has one connection: `db` itself.
	 */
	background: Db;
	kind: 'postgres' | 'pglite';
	/** Resolves when the database answers a trivial query. */
	ping(): Promise<void>;
	/**
	 * Calls `handler` for every NOTIFY on `channel` (from any process on the same database) until
	 * the returned function is called. PostgreSQL reconnects the listener by itself.
	 */
	listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
	close(): Promise<void>;
}

export interface DatabaseOptions {
	/** postgres:// URL; absent means embedded PGlite. */
	url?: string;
	/** Folder for PGlite's files; `memory://` keeps everything in memory (tests). */
	dataDir?: string;
	poolMax?: number;
	migrationsFolder?: string;
	/** Called with non-fatal notices (for example PostgreSQL's NOTICE messages). */
	onNotice?: (message: string) => void;
}

/** Connections for the periodic batch writes (see `Database.background`). */
const BACKGROUND_POOL_MAX = 2;

// Any lock id works as long as every replica uses the same one.
const MIGRATION_LOCK_ID = 7_214_001;

/** Finds `drizzle/` from the working directory or from wherever this file was bundled to. */
export function findMigrationsFolder(): string {
	const candidates = [path.resolve('drizzle')];
	let dir = path.dirname(fileURLToPath(import.meta.url));
	for (let i = 0; i < 6; i++) {
		candidates.push(path.join(dir, 'drizzle'));
		dir = path.dirname(dir);
	}
	const found = candidates.find((c) => existsSync(path.join(c, 'meta', '_journal.json')));
	if (!found) throw new Error(`migrations folder not found (looked in ${candidates[0]})`);
	return found;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
	const migrationsFolder = options.migrationsFolder ?? findMigrationsFolder();
	return options.url
		? openPostgres(options.url, options, migrationsFolder)
		: openPglite(options.dataDir ?? './data', migrationsFolder);
}

async function openPostgres(
	url: string,
	options: DatabaseOptions,
	migrationsFolder: string
): Promise<Database> {
	const { default: postgres } = await import('postgres');
	const { drizzle } = await import('drizzle-orm/postgres-js');
	const { migrate } = await import('drizzle-orm/postgres-js/migrator');
	const client = postgres(url, {
		max: options.poolMax ?? 10,
		onnotice: (n) => options.onNotice?.(String(n.message)),
		connect_timeout: 10
	});
	const db = drizzle(preparedByDefault(client), { schema });
	const backgroundClient = postgres(url, {
		max: BACKGROUND_POOL_MAX,
		onnotice: (n) => options.onNotice?.(String(n.message)),
		connect_timeout: 10
	});
	const background = drizzle(preparedByDefault(backgroundClient), { schema });
	// Replicas that start together take turns: the first migrates, the rest find nothing to do.
	const lock = await client.reserve();
	try {
		await lock`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
		await migrate(db, { migrationsFolder });
	} finally {
		await lock`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.catch(() => {});
		lock.release();
	}
	return {
		db: db as unknown as Db,
		background: background as unknown as Db,
		kind: 'postgres',
		ping: async () => {
			await client`select 1`;
		},
		listen: async (channel, handler) => {
			const { unlisten } = await client.listen(channel, handler);
			return unlisten;
		},
		close: async () => {
			await Promise.all([client.end({ timeout: 5 }), backgroundClient.end({ timeout: 5 })]);
		}
	};
}

type Sql = import('postgres').Sql;
type TransactionSql = import('postgres').TransactionSql;

/**
 * Makes drizzle's queries prepared statements. Drizzle's postgres.js driver runs every query
 * through `sql.unsafe(text, params, { prepare: false })` unless it was given a name
 * (drizzle-orm#6096), and postgres.js runs an unprepared query with parameters in two round
 * trips (Parse + Describe to learn the parameter types, then Bind + Execute), and PostgreSQL
 * parses and plans it again every time. Prepared, a statement text is parsed once per
 * connection and every later run is one round trip. postgres.js keys its statement cache by text
 * and types, re-prepares when a migration invalidates a plan, and connections are replaced after
 * `max_lifetime`, so the cache stays bounded. The same goes for the connection of a transaction
 * and of a savepoint, which postgres.js hands out as new `sql` instances.
 */
export function preparedByDefault<T extends Sql | TransactionSql>(client: T): T {
	const unsafe = client.unsafe;
	client.unsafe = ((query: string, args?: unknown[], options?: object) =>
		unsafe(query, args as never, { ...options, prepare: true })) as T['unsafe'];
	const scoped = (name: 'begin' | 'savepoint') => {
		const open = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
		if (typeof open !== 'function') return;
		(client as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
			const callback = args.pop() as (tx: TransactionSql) => unknown;
			return open(...args, (tx: TransactionSql) => callback(preparedByDefault(tx)));
		};
	};
	scoped('begin');
	scoped('savepoint');
	return client;
}

async function openPglite(dataDir: string, migrationsFolder: string): Promise<Database> {
	const { PGlite } = await import('@electric-sql/pglite');
	const { drizzle } = await import('drizzle-orm/pglite');
	const { migrate } = await import('drizzle-orm/pglite/migrator');
	const inMemory = dataDir.startsWith('memory://');
	let releaseLock = () => {};
	let target = dataDir;
	if (!inMemory) {
		mkdirSync(dataDir, { recursive: true });
		target = path.join(path.resolve(dataDir), 'pglite');
		releaseLock = takeProcessLock(path.join(path.resolve(dataDir), 'pglite.lock'));
	}
	// pg_trgm serves the admin's user search, as it does on PostgreSQL (migration 0008).
	const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
	const client = new PGlite(inMemory ? 'memory://' : target, { extensions: { pg_trgm } });
	await client.waitReady;
	const db = drizzle(client, { schema });
	await migrate(db, { migrationsFolder });
	return {
		db: db as unknown as Db,
		background: db as unknown as Db,
		kind: 'pglite',
		ping: async () => {
			await db.execute(sql`select 1`);
		},
		listen: (channel, handler) => client.listen(channel, handler),
		close: async () => {
			await client.close();
			releaseLock();
		}
	};
}

/**
 * PGlite is single-process: a second server on the same folder would corrupt it. Refuse early with
 * a message that says what to do instead.
 */
function takeProcessLock(file: string): () => void {
	if (existsSync(file)) {
		const pid = Number(readFileSync(file, 'utf8').trim());
		if (pid && pid !== process.pid && isAlive(pid))
			throw new Error(
				`the embedded database in ${path.dirname(file)} is in use by process ${pid}; stop it, use another DATA_DIR, or set DATABASE_URL to share PostgreSQL between servers`
			);
	}
	writeFileSync(file, String(process.pid));
	return () => rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
