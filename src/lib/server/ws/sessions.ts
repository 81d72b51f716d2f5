/**
 * Open WebSockets per user, so that ending a user's sessions (disabled, deleted, signed out
 * everywhere, password changed) also closes the sockets they already have open, on every replica.
 * The socket itself only checks the user when it connects; this closes it when that stops holding.
 *
 * The registry lives on globalThis: the WebSocket server and SvelteKit are bundled separately.
 *
 * @example
 * await signedOut(db, user.id); // after bumping the token version
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db';
import { logger } from '../log';

export const SESSIONS_CHANNEL = 'user_sessions';
/** Close code sent to the browser: its session ended, log in again. */
export const SESSION_ENDED = 4401;

interface Closable {
	close(code: number, reason: string): void;
}

/** A user's open sockets, and the one copy of the user's id they all share. */
class UserSockets extends Set<Closable> {
	constructor(readonly userId: string) {
		super();
	}
}

const KEY = Symbol.for('ai-coding-tutor.ws.sessions');
const globals = globalThis as { [KEY]?: Map<string, UserSockets> };
const open = () => (globals[KEY] ??= new Map());

/**
 * Registers an open socket of the user. Returns the id as the registry holds it, equal to `userId`:
 * each socket loads its user on its own, and a socket that keeps this copy instead of its own
 * saves a string per idle connection.
 */
export function track(userId: string, socket: Closable): string {
	let set = open().get(userId);
	if (!set) open().set(userId, (set = new UserSockets(userId)));
	set.add(socket);
	return set.userId;
}

export function untrack(userId: string, socket: Closable) {
	const set = open().get(userId);
	set?.delete(socket);
	if (set?.size === 0) open().delete(userId);
}

/** Closes this process's sockets of the user; returns how many. */
export function closeSockets(userId: string): number {
	const set = open().get(userId);
	if (!set) return 0;
	for (const socket of set) socket.close(SESSION_ENDED, 'session ended');
	open().delete(userId);
	return set.size;
}

/** Closes the user's sockets here and tells every other replica to close theirs. */
export async function signedOut(db: Db, userId: string) {
	closeSockets(userId);
	await db.execute(sql`select pg_notify(${SESSIONS_CHANNEL}, ${userId})`);
}

/** Closes sockets when another replica reports a user signed out (PostgreSQL only). */
export function listenForSignOuts(database: Database) {
	return database.listen(SESSIONS_CHANNEL, (userId) => {
		const closed = closeSockets(userId);
		if (closed)
			logger().info({ userId, closed }, 'closed the sockets of a user whose session ended');
	});
}
