import { sequence } from '@sveltejs/kit/hooks';
import type { HandleServerError, ServerInit } from '@sveltejs/kit';
import { loadEnvFile } from '#lib/server/env-file';
import { logger } from '#lib/server/log';
import { startRuntime } from '#lib/server/runtime';
import {
	authHandle,
	guardHandle,
	requestHandle,
	securityHeadersHandle
} from '#lib/server/http/handles';

export const init: ServerInit = async () => {
	loadEnvFile();
	await startRuntime(process.env);
};

export const handle = sequence(requestHandle, securityHeadersHandle, authHandle, guardHandle);

export const handleError: HandleServerError = ({ error, event, status, message }) => {
	const requestId = event.locals.requestId;
	if (status >= 500) logger().error({ err: error, path: event.url.pathname }, 'unhandled error');
	return {
		message: status >= 500 ? 'Something went wrong on our side. Please try again.' : message,
		requestId
	};
};
