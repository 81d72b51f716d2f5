/**
 * Practice and the question bank admin through the built server: every /admin/questions page, form
 * action and /api/admin/questions endpoint refused to anonymous visitors and students; a student's
 * answers, mock exams and "ask the tutor why" are out of every other student's reach; an admin's
 * import with one bad row changes nothing and the report names the row; a review answer is rated
 * once, by its own student, after seeing each rating's interval, up to the daily review cap.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithUsers } from '../helpers/app.ts';
import type { Client, RunningServer } from '../helpers/server.ts';

const ADMIN = 'questions.admin@example.com';
let server: RunningServer;
let anon: Client;
let ana: Client;
let ben: Client;
let admin: Client;
let questionId = '';

const json = (c: Client, path: string, method: string, body: unknown) =>
	c.fetch(path, {
		method,
		body: JSON.stringify(body),
		headers: { 'content-type': 'application/json' }
	});

async function exportAll() {
	const res = await admin.fetch('/api/admin/questions/export?format=json');
	expect(res.status).toBe(200);
	return (await res.json()) as Record<string, unknown>[];
}

beforeAll(async () => {
	({
		server,
		anon,
		students: [ana, ben],
		admin
	} = await startAppWithUsers(ADMIN, ['ana.practice@example.com', 'ben.practice@example.com'], {
		env: { REVIEW_DAILY_LIMIT: '2' }
	}));
	const list = await (await admin.fetch('/admin/questions')).text();
	questionId = /\/admin\/questions\/([0-9a-f-]{36})/.exec(list)![1]!;
}, 120_000);
afterAll(async () => {
	await server?.stop('SIGKILL');
	await server?.dropDatabase();
});

describe('the question bank admin', () => {
	it('pages and export: anonymous visitors go to log in, students get 403, admins 200', async () => {
		for (const page of [
			'/admin/questions',
			'/admin/questions?exam=python-entry&kind=single&q=loop&page=2',
			'/admin/questions/new',
			`/admin/questions/${questionId}`,
			'/admin/questions/import'
		]) {
			const a = await anon.fetch(page);
			expect(a.status, page).toBe(303);
			expect(a.headers.get('location'), page).toMatch(/^\/login\?next=/);
			const s = await ben.fetch(page);
			expect(s.status, page).toBe(403);
			expect(await s.text()).toContain('This area is for administrators.');
			expect((await admin.fetch(page)).status, page).toBe(200);
		}
		for (const api of [
			'/api/admin/questions/export?format=json',
			'/api/admin/questions/export?format=csv'
		]) {
			expect((await anon.fetch(api)).status, api).toBe(401);
			expect((await ben.fetch(api)).status, api).toBe(403);
			expect((await admin.fetch(api)).status, api).toBe(200);
		}
	});

	it('form actions are refused to anonymous visitors and students, and nothing changes', async () => {
		const before = await exportAll();
		const fields = {
			ref: 'hacked-1',
			topic: 'python-entry/loops',
			kind: 'short',
			difficulty: '1',
			prompt: 'P',
			answer: 'x',
			explanation: 'E'
		};
		for (const action of [
			'/admin/questions/new?/save',
			`/admin/questions/${questionId}?/save`,
			`/admin/questions/${questionId}?/delete`,
			'/admin/questions/import?/import'
		]) {
			expect((await anon.post(action, fields)).status, action).toBe(401);
			expect((await ben.post(action, fields)).status, action).toBe(403);
		}
		expect(await exportAll()).toEqual(before);
	});

	it('an import with one bad row imports nothing and names the row', async () => {
		const before = await exportAll();
		const rows = [
			{ ...before[0], ref: 'brand-new-1' },
			{ ...before[1], ref: 'brand-new-2', exam: 'no-such-exam' }
		];
		const form = new FormData();
		form.append(
			'file',
			new Blob([JSON.stringify(rows)], { type: 'application/json' }),
			'bank.json'
		);
		const res = await admin.fetch('/admin/questions/import?/import', {
			method: 'POST',
			body: form,
			headers: { accept: 'text/html' }
		});
		expect(res.status).toBe(400);
		const html = await res.text();
		expect(html).toContain('Nothing was imported');
		expect(html).toContain('brand-new-2');
		expect(html).toContain('there is no exam "no-such-exam"');
		expect(await exportAll()).toEqual(before);
	});
});

describe("a student's answers are their own", () => {
	it('answers, mock exams and "ask the tutor why" are out of other students\' reach', async () => {
		const next = await ana.fetch('/api/me/practice/next?exam=python-entry');
		expect(next.status).toBe(200);
		const { question } = (await next.json()) as {
			question: { id: string; options: string[] } & Record<string, unknown>;
		};
		// No answer key or solution is sent before answering.
		expect(Object.keys(question).sort()).toEqual([
			'checks',
			'code',
			'difficulty',
			'id',
			'kind',
			'options',
			'promptHtml',
			'starterCode',
			'topic'
		]);
		const answered = await json(ana, '/api/me/practice/answers', 'POST', {
			questionId: question.id,
			given: { choice: 0, text: 'x', choices: [0] },
			timeMs: 2000,
			mode: 'practice'
		});
		expect(answered.status).toBe(200);
		const { answerId } = (await answered.json()) as { answerId: string };

		// Ben cannot open a tutor conversation about Ana's answer.
		const ask = await ben.post('/practice/session?/ask', { answerId });
		expect(ask.status).toBe(404);
		// Ana can.
		const own = await ana.post('/practice/session?/ask', { answerId });
		expect(own.status).toBe(303);
		expect(own.headers.get('location')).toMatch(/^\/tutor\/[0-9a-f-]{36}$/);
		expect((await ben.fetch(own.headers.get('location')!)).status).toBe(404);

		// Ana's mock exam: Ben can neither see it nor answer in it.
		const started = await ana.post('/practice?/mock', { exam: 'python-entry' });
		expect(started.status).toBe(303);
		const mockPath = started.headers.get('location')!;
		expect((await ana.fetch(mockPath)).status).toBe(200);
		expect((await ben.fetch(mockPath)).status).toBe(404);
		const mockId = mockPath.split('/').at(-1)!;
		const put = await json(ben, `/api/me/practice/mock/${mockId}/responses`, 'PUT', {
			questionId: question.id,
			given: { choice: 1 }
		});
		expect(put.status).toBe(404);
		expect((await ben.post(`${mockPath}?/submit`, {})).status).toBe(404);

		// Ben's stats and review queue show none of Ana's answers.
		const stats = await (await ben.fetch('/practice/stats')).text();
		expect(stats).toContain('No answers yet');
		// Anonymous visitors get nothing at all.
		expect((await anon.fetch('/api/me/practice/next')).status).toBe(401);
		expect((await json(anon, '/api/me/practice/answers', 'POST', {})).status).toBe(401);
	});

	it('bad input gets a clear 4xx', async () => {
		const bad = await json(ana, '/api/me/practice/answers', 'POST', {
			questionId: 'nope',
			given: {},
			timeMs: -1,
			mode: 'x'
		});
		expect(bad.status).toBe(400);
		expect(((await bad.json()) as { issues: string[] }).issues.length).toBeGreaterThan(0);
		expect((await ana.fetch('/api/me/practice/next?topics=nope')).status).toBe(400);
		expect((await ana.fetch('/practice/mock/not-a-uuid')).status).toBe(404);
	});

	it('rates a review answer once, after showing every interval, up to the daily cap', async () => {
		const next = await ana.fetch('/api/me/practice/next?exam=python-entry');
		const { question } = (await next.json()) as { question: { id: string } };
		const review = () =>
			json(ana, '/api/me/practice/answers', 'POST', {
				questionId: question.id,
				given: { choice: 0, text: 'x', choices: [0] },
				timeMs: 2000,
				mode: 'review'
			});
		const first = await review();
		expect(first.status).toBe(200);
		const feedback = (await first.json()) as {
			answerId: string;
			nextReview: string | null;
			ratings: Record<string, string>;
			suggested: string;
		};
		// The card waits for the student's pick; every rating says when the question comes back.
		expect(feedback.nextReview).toBeNull();
		expect(Object.keys(feedback.ratings)).toEqual(['again', 'hard', 'good', 'easy']);
		expect(['again', 'easy']).toContain(feedback.suggested);
		const path = `/api/me/practice/answers/${feedback.answerId}/rating`;
		expect((await json(ben, path, 'POST', { rating: 'good' })).status).toBe(404);
		expect((await json(ana, path, 'POST', { rating: 'perfect' })).status).toBe(400);
		const rated = await json(ana, path, 'POST', { rating: 'good' });
		expect(rated.status).toBe(200);
		// What the Good button showed is where the card went (the pick came moments later).
		const { nextReview } = (await rated.json()) as { nextReview: string };
		expect(Math.abs(Date.parse(nextReview) - Date.parse(feedback.ratings.good!))).toBeLessThan(
			60_000
		);
		expect((await json(ana, path, 'POST', { rating: 'easy' })).status).toBe(409);

		// REVIEW_DAILY_LIMIT=2: the second review answer is the last one today.
		expect((await review()).status).toBe(200);
		const capped = await ana.fetch('/api/me/practice/next?mode=review');
		expect(await capped.json()).toMatchObject({ question: null, capped: 2 });
		expect((await review()).status).toBe(409);
		// Practice is not capped.
		expect((await ana.fetch('/api/me/practice/next?mode=practice')).status).toBe(200);

		// With questions due, the dashboard and the practice page no longer offer a review today.
		const sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
		await sql`update review_cards set due = now() - interval '1 hour'
			where user_id = (select id from users where email = 'ana.practice@example.com')`;
		await sql.end();
		const dashboard = await (await ana.fetch('/dashboard')).text();
		expect(dashboard).toMatch(/data-testid="dashboard-due"[^>]*>[1-9]/);
		expect(dashboard).toContain('reviews are done');
		expect(dashboard).not.toContain('Review now');
		const practice = await (await ana.fetch('/practice')).text();
		expect(practice).toContain('data-testid="reviews-done"');
		expect(practice).not.toContain('Review now');
	});
});
