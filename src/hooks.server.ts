import { sequence } from '@sveltejs/kit/hooks';
import type { HandleServerError, ServerInit } from '@sveltejs/kit/hooks';
import { loadEnvFile } from '#lib/server/env-file.ts';
import { logger } from '#lib/server/log.ts';
import { startRuntime } from '#lib/server/runtime.ts';
import {
	authHandle,
	guardHandle,
	inputHandle,
	requestHandle,
	securityHeadersHandle
} from '#lib/server/http/handles.ts';
import { rateLimitHandle } from '#lib/server/http/rate-limits.ts';

export const init: ServerInit = async () => {
	loadEnvFile();
	await startRuntime(process.env);
};

export const handle = sequence(
	requestHandle,
	inputHandle,
	securityHeadersHandle,
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
