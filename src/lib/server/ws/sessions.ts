/**
 * Open WebSockets per user: ending a user's sessions (disabled, deleted, logged out here or
 * everywhere, password changed) closes the sockets they already have open, on every replica; and
 * a user's sockets share one cap on their number and one budget of frames per second.
 *
 * The registry lives on globalThis: the WebSocket server and SvelteKit are bundled separately.
 *
 * @example
 * await signedOut(db, user.id); // after bumping the token version
 * await signedOut(db, user.id, sessionId); // after revoking one sign-in
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '#lib/server/db/index.ts';
import { logger } from '#lib/server/log.ts';

export const SESSIONS_CHANNEL = 'user_sessions';
/** Close code sent to the browser: its session ended, log in again. */
export const SESSION_ENDED = 4401;

export interface Closable {
	/** The sign-in the socket was opened with, if its token named one. */
	readonly sessionId?: string;
	close(code: number, reason: string): void;
}

/** A user's open sockets, the one copy of the user's id they all share, and their frame budget. */
class UserSockets extends Set<Closable> {
	/** Frames per second: a token bucket that refills continuously, full until the first frame. */
	frames = 0;
	framesAt: number | undefined;
	constructor(readonly userId: string) {
		super();
	}
}

const KEY = Symbol.for('ai-coding-tutor.ws.sessions');
const globals = globalThis as { [KEY]?: Map<string, UserSockets> };
const open = () => (globals[KEY] ??= new Map());

/** How many sockets the user has open on this replica. */
export function count(userId: string): number {
	return open().get(userId)?.size ?? 0;
}

/**
 * Registers an open socket of the user, unless the user already has `max` open here (null then).
 * Returns the id as the registry holds it, equal to `userId`: a socket that keeps this copy
 * instead of its own saves a string per idle connection.
 */
export function track(userId: string, socket: Closable, max = Infinity): string | null {
	let set = open().get(userId);
	if (!set) open().set(userId, (set = new UserSockets(userId)));
	if (set.size >= max) return null;
	set.add(socket);
	return set.userId;
}

export function untrack(userId: string, socket: Closable) {
	const set = open().get(userId);
	set?.delete(socket);
	if (set?.size === 0) open().delete(userId);
}

/** Takes one frame from the user's budget of `perSecond`, shared by all their sockets here. */
export function allowFrame(userId: string, perSecond: number): boolean {
	const set = open().get(userId);
	if (!set) return false;
	const now = performance.now();
	set.frames =
		set.framesAt === undefined
			? perSecond
			: Math.min(perSecond, set.frames + ((now - set.framesAt) / 1000) * perSecond);
	set.framesAt = now;
	if (set.frames < 1) return false;
	set.frames -= 1;
	return true;
}

/** Closes this process's sockets of the user (of one sign-in when `sessionId` is given). */
export function closeSockets(userId: string, sessionId?: string): number {
	const set = open().get(userId);
	if (!set) return 0;
	let closed = 0;
	for (const socket of [...set]) {
		if (sessionId && socket.sessionId !== sessionId) continue;
		set.delete(socket);
		socket.close(SESSION_ENDED, 'session ended');
		closed++;
	}
	if (set.size === 0) open().delete(userId);
	return closed;
}

/** Closes the user's sockets here and tells every other replica to close theirs. */
export async function signedOut(db: Db, userId: string, sessionId?: string) {
	closeSockets(userId, sessionId);
	const payload = sessionId ? `${userId} ${sessionId}` : userId;
	await db.execute(sql`select pg_notify(${SESSIONS_CHANNEL}, ${payload})`);
}

/** Closes sockets when another replica reports a session ended (PostgreSQL only). */
export function listenForSignOuts(database: Database) {
	return database.listen(SESSIONS_CHANNEL, (payload) => {
		const [userId = '', sessionId] = payload.split(' ');
		const closed = closeSockets(userId, sessionId);
		if (closed)
			logger().info({ userId, closed }, 'closed the sockets of a user whose session ended');
	});
}
