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

/** Reads the JSON body and keeps a record the test can inspect. */
export async function record(req: IncomingMessage, res: ServerResponse): Promise<RecordedRequest> {
	res.on('error', () => {});
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	const text = Buffer.concat(chunks).toString('utf8');
	const recorded: RecordedRequest = {
		method: req.method ?? '',
		path: req.url ?? '',
		headers: req.headers,
		body: text ? JSON.parse(text) : undefined,
		completed: false,
		closed: new Promise((resolve) => res.once('close', resolve))
	};
	res.once('finish', () => (recorded.completed = true));
	return recorded;
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
