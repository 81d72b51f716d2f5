import { expect, test, type Page } from '@playwright/test';
import { TestSocket } from '../tests/helpers/ws.ts';
import { askTutor, expectAccessible, registerViaUi, uniqueEmail } from './helpers';

const answer = (page: Page) => page.locator('article[aria-label="Tutor"]').last();

async function newConversation(page: Page) {
	await registerViaUi(page, uniqueEmail('tutor'));
	await page.getByRole('button', { name: 'Ask the tutor' }).click();
	await expect(page).toHaveURL(/\/tutor\/[0-9a-f-]{36}$/);
	await expect(page.getByText('What are you working on?')).toBeVisible();
}

const ask = askTutor;

/** Every token exactly once, in order: no gap, no duplicate. */
function expectTokens(text: string, count: number) {
	const numbers = [...text.matchAll(/Token (\d+)/g)].map((m) => Number(m[1]));
	expect(numbers).toEqual(Array.from({ length: count }, (_, i) => i + 1));
}

test('a message streams in token by token and the tutor title follows the question', async ({
	page
}) => {
	await newConversation(page);
	await ask(page, 'Why does my while loop never stop?');
	await expect(page.locator('article[aria-label="You"]')).toHaveText(
		'Why does my while loop never stop?'
	);
	await expect(answer(page)).toContainText('Token 3');
	const early = await answer(page).innerText();
	expect(early).not.toContain('Token 40');
	await expect(page.getByRole('button', { name: 'Stop' })).toBeVisible();
	await expect(answer(page)).toContainText('Token 40');
	expectTokens(await answer(page).innerText(), 40);
	await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
	await expect(
		page.getByRole('heading', { name: 'Why does my while loop never stop?' })
	).toBeVisible();
	await expectAccessible(page);
});

test('reloading mid-answer continues it with exactly the saved text', async ({ page, context }) => {
	await newConversation(page);
	await ask(page, 'Reload me [mock:tokens:60]');
	await expect(answer(page)).toContainText('Token 8');
	await page.reload();
	await expect(answer(page)).toContainText('Token 60', { timeout: 15_000 });
	// The answer's end arrives once it is saved: then it offers Regenerate, in both tabs alike.
	await expect(answer(page).getByRole('button', { name: 'Regenerate' })).toBeVisible();
	const shown = await answer(page).innerText();
	expectTokens(shown, 60);
	// A fresh tab reads the saved conversation: the same text.
	const fresh = await context.newPage();
	await fresh.goto(page.url());
	await expect(answer(fresh).getByRole('button', { name: 'Regenerate' })).toBeVisible();
	expect(await answer(fresh).innerText()).toBe(shown);
});

test('Stop ends the answer, keeps what was written, and survives a reload; Continue picks it up', async ({
	page
}) => {
	await newConversation(page);
	await ask(page, 'Stop me [mock:tokens:400]');
	await expect(answer(page)).toContainText('Token 5');
	await page.getByRole('button', { name: 'Stop' }).click();
	await expect(answer(page)).toContainText('You stopped this answer.');
	const stopped = (await answer(page).innerText()).replace(/You stopped this answer\.[\s\S]*$/, '');
	await page.reload();
	await expect(answer(page)).toContainText('You stopped this answer.');
	expect((await answer(page).innerText()).replace(/You stopped this answer\.[\s\S]*$/, '')).toBe(
		stopped
	);
	const count = [...stopped.matchAll(/Token \d+/g)].length;
	expect(count).toBeLessThan(400);
	await page.getByRole('button', { name: 'Continue' }).click();
	await expect(page.getByRole('button', { name: 'Stop' })).toBeVisible();
	await page.getByRole('button', { name: 'Stop' }).click();
	await expect(answer(page)).toContainText('You stopped this answer.');
	expect((await answer(page).innerText()).startsWith(stopped.trimEnd())).toBe(true);
});

test('two tabs show the same stream', async ({ page, context }) => {
	await newConversation(page);
	const second = await context.newPage();
	await second.goto(page.url());
	await expect(second.getByText('What are you working on?')).toBeVisible();
	await ask(page, 'Both tabs [mock:tokens:30]');
	await expect(answer(second)).toContainText('Token 5');
	await expect(answer(page)).toContainText('Token 30');
	await expect(answer(second)).toContainText('Token 30');
	// Compared once the end (delivered when saved) has reached both tabs.
	for (const tab of [page, second])
		await expect(answer(tab).getByRole('button', { name: 'Regenerate' })).toBeVisible();
	expect(await answer(second).innerText()).toBe(await answer(page).innerText());
	await expect(second.locator('article[aria-label="You"]')).toHaveText(
		'Both tabs [mock:tokens:30]'
	);
	// An answer that never comes: both tabs know it is running, and Stop in either ends it in both.
	await ask(page, 'And a long one [mock:delay:600000]');
	for (const tab of [page, second])
		await expect(tab.getByRole('button', { name: 'Stop' })).toBeVisible();
	await second.getByRole('button', { name: 'Stop' }).click();
	for (const tab of [page, second])
		await expect(answer(tab)).toContainText('You stopped this answer.');
});

test('closing the tab mid-answer and coming back shows the finished answer', async ({
	context
}) => {
	const page = await context.newPage();
	await newConversation(page);
	const url = page.url();
	await ask(page, 'Finish without me [mock:tokens:50]');
	await expect(answer(page)).toContainText('Token 4');
	await page.close();
	await new Promise((r) => setTimeout(r, 3500));
	const back = await context.newPage();
	await back.goto(url);
	await expect(answer(back)).toContainText('Token 50');
	expectTokens(await answer(back).innerText(), 50);
	await expect(back.getByRole('button', { name: 'Regenerate' })).toBeVisible();
});

test('an error gets a clear message and Retry; markup in messages never runs', async ({ page }) => {
	await newConversation(page);
	await ask(
		page,
		'Overload [mock:error:bad_request] <img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
	);
	await expect(answer(page)).toContainText('could not process this conversation');
	await expect(page.getByRole('button', { name: 'Retry' })).toBeVisible();
	await ask(page, '<img src=x onerror="window.__xss=3"> [x](javascript:window.__xss=4)');
	await expect(answer(page)).toContainText('Token 40');
	expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
	await expect(page.locator('.messages img')).toHaveCount(0);
	await expect(page.locator('.messages a[href^="javascript"]')).toHaveCount(0);
});

test('conversations can be renamed, searched and deleted', async ({ page }) => {
	await newConversation(page);
	await ask(page, 'Explain list comprehensions please');
	await expect(answer(page)).toContainText('Token 40');
	await page.getByRole('button', { name: 'Rename' }).click();
	await page.getByLabel('Conversation title').fill('Comprehensions');
	await page.getByRole('button', { name: 'Save' }).click();
	await expect(page.getByRole('heading', { name: 'Comprehensions' })).toBeVisible();
	await page.goto('/tutor?q=compre');
	await expect(page.getByRole('link', { name: /Comprehensions/ })).toBeVisible();
	await page.goto('/tutor?q=nothing-like-this');
	await expect(page.getByText('No conversation titles match')).toBeVisible();
	await page.goto('/tutor');
	await page.getByRole('link', { name: /Comprehensions/ }).click();
	await page.getByRole('button', { name: 'Delete' }).click();
	await page.getByRole('button', { name: 'Delete for good' }).click();
	await expect(page).toHaveURL(/\/tutor$/);
	await expect(page.getByRole('link', { name: /Comprehensions/ })).toHaveCount(0);
});

test('a long conversation opens at its end, loads earlier messages when scrolled up, and a reload mid-answer gives the exact text', async ({
	page,
	baseURL
}) => {
	await newConversation(page);
	const id = page.url().split('/').pop()!;
	// 28 short questions and answers over the WebSocket: more than one snapshot page (50 messages).
	const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
	const origin = new URL(baseURL!).origin;
	const socket = await TestSocket.connect(`${origin.replace(/^http/, 'ws')}/ws/v1`, cookie, origin);
	socket.send({ type: 'subscribe', conversationId: id });
	await socket.waitFor((m) => m.some((x) => x.type === 'snapshot'));
	for (let i = 1; i <= 28; i++) {
		socket.send({
			type: 'send',
			conversationId: id,
			clientId: `long-${i}-${id}`,
			text: `Q${i} [mock:tokens:1]`
		});
		await socket.waitFor(() => socket.events(id).filter((e) => e.type === 'done').length === i);
	}
	socket.close();

	await page.reload();
	const questions = page.locator('article[aria-label="You"]');
	const log = page.getByRole('log', { name: 'Messages' });
	await expect(questions.last()).toHaveText('Q28 [mock:tokens:1]');
	await expect(questions).toHaveCount(25);
	await expect
		.poll(() => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight))
		.toBeLessThan(80);
	await log.evaluate((el) => el.scrollTo({ top: 0 }));
	await expect(questions).toHaveCount(28);
	await expect(questions.first()).toHaveText('Q1 [mock:tokens:1]');
	await expect(page.getByRole('button', { name: 'Load earlier messages' })).toHaveCount(0);
	await expectAccessible(page);

	await ask(page, 'And the last one?');
	await expect(answer(page)).toContainText('Token 5');
	await page.reload();
	await expect(answer(page)).toContainText('Token 40');
	expectTokens(await answer(page).innerText(), 40);
	await expect(questions).toHaveCount(25);
});

test('Esc stops; own messages render as markdown; a finished answer ends in view and can be copied', async ({
	page,
	context
}) => {
	await context.grantPermissions(['clipboard-read', 'clipboard-write']);
	await newConversation(page);
	await ask(page, 'Why does `print()` say **None**? [mock:tokens:400]');
	const mine = page.locator('article[aria-label="You"]').last();
	await expect(mine.locator('code')).toHaveText('print()');
	await expect(mine.locator('strong')).toHaveText('None');
	await expect(answer(page)).toContainText('Token 5');
	await page.keyboard.press('Escape');
	await expect(answer(page)).toContainText('You stopped this answer.');
	await expect(page.locator('aside .live')).toHaveCount(0);

	await ask(page, 'A long one please [mock:tokens:300] [mock:delay:1]');
	const regenerate = answer(page).getByRole('button', { name: 'Regenerate' });
	await expect(regenerate).toBeVisible();
	await expect(regenerate).toBeInViewport();
	const gap = await page
		.locator('.messages')
		.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
	expect(gap).toBeLessThan(2);
	await answer(page).getByRole('button', { name: 'Copy answer' }).click();
	await expect(answer(page).getByRole('button', { name: 'Copied' })).toBeVisible();
	const copied = await page.evaluate(() => navigator.clipboard.readText());
	expectTokens(copied, 300);
	await expectAccessible(page);
});

test('a student signed out elsewhere is told why, with a way back to the conversation', async ({
	page,
	context
}) => {
	await newConversation(page);
	const url = page.url();
	const other = await context.newPage();
	await other.goto('/dashboard');
	await other.getByRole('button', { name: 'Log out' }).click();
	await expect(other).toHaveURL(/\/login/);
	await expect(page.getByRole('alert')).toContainText('You are signed out');
	await expect(page.getByLabel('Message the tutor')).toBeDisabled();
	await page.getByRole('link', { name: 'Log in again' }).click();
	await expect(page).toHaveURL(/\/login\?next=/);
	expect(new URL(page.url()).searchParams.get('next')).toBe(new URL(url).pathname);
});
