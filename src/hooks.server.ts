import { sequence } from '@sveltejs/kit/hooks';
import type { HandleServerError } from '@sveltejs/kit/hooks';
import { loadEnvFile } from '#lib/server/env-file.ts';
import { logger } from '#lib/server/log.ts';
import { startServices, type Services } from '#lib/server/services.ts';
import { servicesHandle } from '#lib/server/http/handover.ts';
import {
	authHandle,
	guardHandle,
	inputHandle,
	requestHandle,
	securityHeadersHandle
} from '#lib/server/http/handles.ts';
import { rateLimitHandle } from '#lib/server/http/rate-limits.ts';

// `npm start` and `npm run dev` hand their services over with each request. Any other entry
// (`vite preview`, adapter-node's build/index.js) gets its own, started on its first request.
let own: Promise<Services> | undefined;
function startOwnServices() {
	own ??= Promise.resolve()
		.then(() => (loadEnvFile(), startServices(process.env)))
		.catch((error: unknown) => {
			own = undefined; // the next request tries again (a database that was still starting)
			throw error;
		});
	return own;
}

export const handle = sequence(
	requestHandle,
	inputHandle,
	securityHeadersHandle,
	servicesHandle(startOwnServices),
	authHandle,
	rateLimitHandle,
	guardHandle
);

export const handleError: HandleServerError = (caught) => {
	const requestId = caught.event.locals.requestId;
	if (caught.kind !== 'unknown') return { requestId };
	// A bug: full detail in the log under the request id, nothing internal in the response.
	logger().error({ err: caught.error, path: caught.event.url.pathname }, 'unhandled error');
	return { message: 'Something went wrong on our side. Please try again.', requestId };
};
