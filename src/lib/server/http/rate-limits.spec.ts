import { describe, expect, it } from 'vitest';
import { bucketOf, keyOf, rateLimitHeaders, refusalMessage } from './rate-limits.ts';

describe('which requests count', () => {
	it('counts every API call, reads apart from writes', () => {
		expect(bucketOf('GET', '/api/me')).toBe('read');
		expect(bucketOf('HEAD', '/api/me/notebooks')).toBe('read');
		expect(bucketOf('OPTIONS', '/api/me')).toBe('read');
		expect(bucketOf('GET', '/api/health')).toBe('read');
		expect(bucketOf('PUT', '/api/me/exercises/x/code')).toBe('write');
		expect(bucketOf('post', '/api/me/practice/answers')).toBe('write');
		expect(bucketOf('DELETE', '/api/me/notebooks/intro')).toBe('write');
		expect(bucketOf('GET', '/api')).toBe('read');
	});

	it('counts form actions on any page but not page loads or the liveness probe', () => {
		expect(bucketOf('POST', '/login')).toBe('write');
		expect(bucketOf('POST', '/tutor')).toBe('write');
		expect(bucketOf('GET', '/tutor')).toBeNull();
		expect(bucketOf('GET', '/learn/intro/variables/__data.json')).toBeNull();
		expect(bucketOf('GET', '/health')).toBeNull();
		expect(bucketOf('POST', '/health')).toBeNull();
		// A lookalike is a page, not the API.
		expect(bucketOf('GET', '/apidocs')).toBeNull();
	});
});

describe('counter keys', () => {
	it('keys by user when signed in, else by client address', () => {
		expect(keyOf('read', 'u1', '10.0.0.1')).toBe('http:read:user:u1');
		expect(keyOf('write', null, '10.0.0.1')).toBe('http:write:ip:10.0.0.1');
		expect(keyOf('write', null, null)).toBe('http:write:ip:unknown');
	});
});

describe('headers and message', () => {
	it('states the limit, what is left, the reset in seconds and the policy', () => {
		const headers = rateLimitHeaders(
			{ allowed: true, limit: 300, remaining: 299, retryAfterSeconds: 42, resetAt: new Date() },
			{ limit: 300, windowSeconds: 60 }
		);
		expect(headers).toEqual({
			'ratelimit-limit': '300',
			'ratelimit-remaining': '299',
			'ratelimit-reset': '42',
			'ratelimit-policy': '300;w=60'
		});
	});

	it('says when to try again', () => {
		expect(refusalMessage(1)).toBe('You are sending requests very fast. Try again in 1 second.');
		expect(refusalMessage(30)).toMatch(/Try again in 30 seconds\.$/);
	});
});
