/**
 * A real, tiny call to the configured provider, for a health endpoint and the admin page. The
 * result is cached (and concurrent checks share one call), so polling the endpoint cannot be used
 * to spend tokens.
 */
import { toProviderError } from './errors.ts';
import { ProviderError, type Provider, type ProviderErrorKind } from './types.ts';

export type HealthResult =
	| {
			ok: true;
			provider: Provider['name'];
			model: string;
			latencyMs: number;
			/** ISO time of the call this result comes from (older than now when cached). */
			checkedAt: string;
	  }
	| {
			ok: false;
			provider: Provider['name'];
			model: string;
			kind: ProviderErrorKind;
			/** The student-safe explanation plus the HTTP status; never a key or a raw API message. */
			message: string;
			checkedAt: string;
	  };

export interface CheckProviderOptions {
	/** How long a result is reused; 30 s unless told. */
	cacheMs?: number;
	/** Check again even if a finished result is cached ("Check now"); a call in flight is still shared. */
	fresh?: boolean;
	/** Longest the probe may take; 10 s unless told. */
	timeoutMs?: number;
	now?: () => number;
}

const cache = new WeakMap<Provider, { expiresAt: number; result: Promise<HealthResult> }>();

/**
 * Asks the provider for a one-word answer (8 tokens at most) and reports whether it worked.
 * Never throws.
 *
 * @example
 * const health = await checkProvider(tutor);
 * if (!health.ok) logger.warn({ health }, 'tutor provider is failing');
 */
export function checkProvider(
	provider: Provider,
	options: CheckProviderOptions = {}
): Promise<HealthResult> {
	const now = options.now ?? Date.now;
	const cached = cache.get(provider);
	const inFlight = cached?.expiresAt === Infinity;
	if (cached && now() < cached.expiresAt && (!options.fresh || inFlight)) return cached.result;
	const result = probe(provider, options.timeoutMs ?? 10_000, now);
	// In flight: every caller shares this call; the cache window starts when it finishes.
	cache.set(provider, { expiresAt: Infinity, result });
	void result.then(() => {
		if (cache.get(provider)?.result === result)
			cache.set(provider, { expiresAt: now() + (options.cacheMs ?? 30_000), result });
	});
	return result;
}

async function probe(
	provider: Provider,
	timeoutMs: number,
	now: () => number
): Promise<HealthResult> {
	const checkedAt = new Date(now()).toISOString();
	const identity = { provider: provider.name, model: provider.model };
	const controller = new AbortController();
	const timer = setTimeout(() => controller.abort(), timeoutMs);
	const started = performance.now();
	try {
		const request = {
			system: 'You are a health check. Reply with the single word OK.',
			messages: [{ role: 'user' as const, content: 'Health check: reply OK.' }],
			maxTokens: 8,
			signal: controller.signal
		};
		for await (const _event of provider.stream(request)) {
			// Reading to the end proves the whole path works, the end marker included.
		}
		const latencyMs = Math.round(performance.now() - started);
		return { ok: true, ...identity, latencyMs, checkedAt };
	} catch (error) {
		const failure = controller.signal.aborted
			? new ProviderError('timeout', `no complete answer within ${timeoutMs} ms`)
			: toProviderError(error);
		const status = failure.status ? ` (HTTP ${failure.status})` : '';
		const message = failure.userMessage + status;
		return { ok: false, ...identity, kind: failure.kind, message, checkedAt };
	} finally {
		clearTimeout(timer);
	}
}
