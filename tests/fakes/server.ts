/** What the fake provider servers share: recording each request, and listening on a free port. */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
	method: string;
	path: string;
	headers: IncomingHttpHeaders;
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON
	body: any;
	/** Resolves when the connection for this request has closed, from either side. */
	closed: Promise<void>;
	/** True once the fake finished its response; false if the client hung up first. */
	completed: boolean;
}

/**
 * Reads the JSON body and keeps a record the test can inspect. A client that hangs up while
 * sending is recorded too (with no body), rather than failing the request handler.
 */
export async function record(req: IncomingMessage, res: ServerResponse): Promise<RecordedRequest> {
	res.on('error', () => {});
	// Listen before reading the body: the client may go away while it is being read.
	const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
	const chunks: Buffer[] = [];
	let text = '';
	try {
		for await (const chunk of req) chunks.push(chunk as Buffer);
		text = Buffer.concat(chunks).toString('utf8');
	} catch {
		// Aborted mid-body: nothing to parse.
	}
	const recorded: RecordedRequest = {
		method: req.method ?? '',
		path: req.url ?? '',
		headers: req.headers,
		body: text ? JSON.parse(text) : undefined,
		completed: false,
		closed
	};
	res.once('finish', () => (recorded.completed = true));
	return recorded;
}

/**
 * The requests a fake has received, with a promise for each one still to come, so a test waits
 * for the fake to have seen a request instead of guessing how long that takes.
 *
 * @example
 * const log = requestLog();
 * // in the handler: log.add(await record(req, res));
 * const first = await log.received(); // once the first request has been read
 */
export function requestLog() {
	const requests: RecordedRequest[] = [];
	const waiting: { count: number; resolve: (request: RecordedRequest) => void }[] = [];
	return {
		requests,
		add(request: RecordedRequest) {
			requests.push(request);
			for (const waiter of waiting.filter((w) => w.count <= requests.length)) {
				waiting.splice(waiting.indexOf(waiter), 1);
				waiter.resolve(requests[waiter.count - 1]!);
			}
		},
		/** The `count`th request (1 = the first) once it has been read, body included. */
		received(count = 1): Promise<RecordedRequest> {
			const request = requests[count - 1];
			if (request) return Promise.resolve(request);
			return new Promise((resolve) => waiting.push({ count, resolve }));
		}
	};
}

/** Listens on 127.0.0.1 with a free port; `close` also ends connections left hanging. */
export async function listen(server: Server) {
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}
