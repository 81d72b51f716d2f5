/**
 * The databases an integration suite runs on: embedded PGlite always, and real PostgreSQL when
 * TEST_DATABASE_URL is set (CI sets it). Each call gets a fresh, empty, migrated database.
 */
import postgres from 'postgres';
import { openDatabase, schema, type Database } from '../../src/lib/server/db/index.ts';

export interface TestDatabase {
	database: Database;
	/** A URL other processes can use (PostgreSQL only). */
	url?: string;
	drop(): Promise<void>;
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

export const drivers: ('pglite' | 'postgres')[] = TEST_DATABASE_URL
	? ['pglite', 'postgres']
	: ['pglite'];

/** Creates an empty PostgreSQL database and returns its URL. */
export async function createPostgresDatabase(): Promise<{
	url: string;
	drop: () => Promise<void>;
}> {
	if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
	const name = `tutor_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
	const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
	await admin.unsafe(`create database ${name}`);
	await admin.end();
	const url = new URL(TEST_DATABASE_URL);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		drop: async () => {
			const sql = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
			await sql.unsafe(`drop database if exists ${name} with (force)`);
			await sql.end();
		}
	};
}

export async function openTestDatabase(driver: 'pglite' | 'postgres'): Promise<TestDatabase> {
	if (driver === 'pglite') {
		const database = await openDatabase({ dataDir: 'memory://' });
		return { database, drop: () => database.close() };
	}
	const { url, drop } = await createPostgresDatabase();
	const database = await openDatabase({ url, poolMax: Number(process.env.TEST_POOL_MAX ?? 5) });
	return {
		database,
		url,
		drop: async () => {
			await database.close();
			await drop();
		}
	};
}

/** A student account made directly in the database (no password that works). */
export async function addUser(db: Database['db'], email: string) {
	const [user] = await db
		.insert(schema.users)
		.values({ email, displayName: email, passwordHash: 'x' })
		.returning();
	return user!;
}
