import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { expectAccessible, registerViaUi, uniqueEmail } from './helpers';

/** Aborts and counts every request that leaves this machine: the lesson workspace needs none. */
async function countOutsideRequests(context: BrowserContext) {
	const outside: string[] = [];
	await context.route('**/*', (route) => {
		const host = new URL(route.request().url()).hostname;
		if (host === 'localhost' || host === '127.0.0.1') return route.continue();
		outside.push(route.request().url());
		return route.abort();
	});
	return outside;
}

/** Replaces the editor's text the way a paste would (no auto-indent or bracket closing). */
async function setCode(page: Page, code: string) {
	const editor = page.getByRole('textbox', { name: /^Code for/ });
	await editor.click();
	await page.keyboard.press('ControlOrMeta+A');
	await page.keyboard.press('Delete');
	await page.keyboard.insertText(code);
}

const output = (page: Page) => page.locator('.output');

test('a lesson: run code, fail a check then pass it, restore after reload, stop a runaway loop', async ({
	page,
	context
}) => {
	test.setTimeout(120_000);
	const outside = await countOutsideRequests(context);
	await registerViaUi(page, uniqueEmail('learner'));

	await page.getByRole('link', { name: 'Learn', exact: true }).click();
	await expect(page.getByRole('heading', { name: 'Learn Python' })).toBeVisible();
	await page.getByRole('link', { name: 'Values and types' }).click();
	await page.getByRole('link', { name: 'Numbers and arithmetic' }).click();
	await expect(page.getByRole('heading', { level: 1 })).toHaveText(/Numbers and arithmetic/);
	await expectAccessible(page);

	// Python starts in a worker; Run is enabled once it is ready.
	const run = page.getByRole('button', { name: /^Run/ });
	await expect(run).toBeEnabled({ timeout: 60_000 });

	await setCode(page, 'print(6 * 7)\nprint("area" + "!")\n');
	await run.click();
	await expect(output(page).locator('.console')).toHaveText('42\narea!\n');

	// The starter-like attempt fails a check with a hint, the right one passes.
	await setCode(page, 'def area(width, height):\n    return width + height\n');
	await page.getByRole('button', { name: /^Check/ }).click();
	await expect(output(page)).toContainText(/Checks: \d of 3 passed/);
	await expect(output(page)).toContainText('unit squares');
	// The server confirms: its first check also starts its Python worker threads, so allow for that.
	await expect(page.getByText('Not passed on the server.')).toBeVisible({ timeout: 30_000 });

	await setCode(page, 'def area(width, height):\n    return width * height\n');
	await page.keyboard.press('Shift+Enter');
	await expect(output(page)).toContainText('All checks passed');
	await expect(page.getByText('Confirmed by the server.')).toBeVisible();
	await expect(page.getByText('Lesson complete.')).toBeVisible();

	// The code and the progress come back after a reload.
	await page.reload();
	await expect(page.getByRole('textbox', { name: /^Code for/ })).toContainText(
		'return width * height'
	);
	await expect(page.getByText('✓ Completed')).toBeVisible();
	await page.goto('/learn/values-and-types');
	await expect(page.getByText('1 of 3', { exact: false })).toBeVisible();

	// A loop that never ends is stopped, and Python works again afterwards.
	await page.goto('/learn/values-and-types/variables-and-names');
	const run2 = page.getByRole('button', { name: /^Run/ });
	await expect(run2).toBeEnabled({ timeout: 60_000 });
	await setCode(page, 'n = 0\nwhile True:\n    n += 1\n');
	await run2.click();
	await page.getByRole('button', { name: 'Stop' }).click();
	await expect(output(page)).toContainText('Stopped. Python has been restarted.');
	await expect(run2).toBeEnabled({ timeout: 60_000 });
	await setCode(page, 'print("alive")\n');
	await run2.click();
	await expect(output(page).locator('.console')).toHaveText('alive\n');

	await page.goto('/dashboard');
	await expect(page.getByRole('link', { name: 'Continue' })).toHaveAttribute(
		'href',
		'/learn/values-and-types/variables-and-names'
	);
	expect(outside).toEqual([]);
});

test('asking the tutor from an exercise carries the lesson and the code', async ({ page }) => {
	await registerViaUi(page, uniqueEmail('asker'));
	await page.goto('/learn/values-and-types/numbers-and-arithmetic');
	await expect(page.getByRole('button', { name: /^Run/ })).toBeEnabled({ timeout: 60_000 });
	await setCode(page, 'def area(width, height):\n    return widht * height\n');
	await page.getByRole('button', { name: 'Ask the tutor about this' }).click();
	await expect(page).toHaveURL(/\/tutor\/[0-9a-f-]+$/);
	await expect(page.getByRole('heading', { name: 'Help: Rectangle area', level: 1 })).toBeVisible();
	await page.getByRole('link', { name: /Back to the lesson/ }).click();
	await expect(page).toHaveURL('/learn/values-and-types/numbers-and-arithmetic');
});
