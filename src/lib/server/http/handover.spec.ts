import type { IncomingMessage } from 'node:http';
import type { RequestEvent } from '@sveltejs/kit';
import { describe, expect, it, vi } from 'vitest';
import type { Services } from '#lib/server/services.ts';
import { handOver, servicesHandle } from './handover.ts';

const services = (name: string) => ({ name }) as unknown as Services;

/** Runs the handle on a request with the given platform; returns the services the route saw. */
async function servicesSeen(
	platform: { req: IncomingMessage } | undefined,
	own: () => Promise<Services>
) {
	const event = { platform, locals: {} } as unknown as RequestEvent;
	let seen: Services | undefined;
	await servicesHandle(own)({
		event,
		resolve: async (e) => {
			seen = e.locals.services;
			return new Response();
		}
	});
	return seen;
}

describe('servicesHandle', () => {
	it('gives the route the services the entry handed over with the request', async () => {
		const req = {} as IncomingMessage;
		const entry = services('entry');
		handOver(req, entry);
		const own = vi.fn(async () => services('own'));
		expect(await servicesSeen({ req }, own)).toBe(entry);
		expect(own).not.toHaveBeenCalled();
	});

	it('falls back to its own services when the entry handed over none', async () => {
		const mine = services('own');
		const own = vi.fn(async () => mine);
		expect(await servicesSeen(undefined, own)).toBe(mine);
		expect(await servicesSeen({ req: {} as IncomingMessage }, own)).toBe(mine);
		expect(own).toHaveBeenCalledTimes(2);
	});

	it('refuses to be built without a fallback', () => {
		expect(() => servicesHandle(undefined as never)).toThrow(/own\(\)/);
	});
});
