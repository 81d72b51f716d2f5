/**
 * Work that runs after the response is sent (a mail whose sending must not show in response times).
 * Errors are logged by name only; shutdown waits for what is still running.
 *
 * @example
 * background.run('password reset mail', () => sendResetMail(deps, email, linkBase));
 * await background.settled();
 */
import { logger } from '#lib/server/log.ts';

const running = new Set<Promise<void>>();

/** Starts `work` on a later turn of the event loop; `what` names it in the log if it fails. */
export function run(what: string, work: () => Promise<unknown>) {
	const task: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
		.then(work)
		.then(
			() => {},
			(error: unknown) => logger().error({ error: brief(error) }, `${what} failed`)
		)
		.finally(() => running.delete(task));
	running.add(task);
}

/** Resolves once every task started so far has finished. */
export async function settled() {
	while (running.size) await Promise.all([...running]);
}

// The error's name and codes only: messages can quote an address (an SMTP refusal) or a token.
function brief(error: unknown) {
	const e = error as { name?: unknown; code?: unknown; responseCode?: unknown };
	return {
		name: String(e?.name ?? 'Error'),
		code: typeof e?.code === 'string' ? e.code : undefined,
		responseCode: typeof e?.responseCode === 'number' ? e.responseCode : undefined
	};
}
