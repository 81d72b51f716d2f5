import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { expectAccessible, loginViaUi, registerViaUi, uniqueEmail } from './helpers';

/**
 * The Python lab, offline: a student opens a module's notebook from the module page, runs a cell
 * and sees its output, edits it, and finds the edit again in a fresh browser profile (a new
 * context: no cookies, no storage) after signing in — restored from the server. Every request to
 * anything but this machine is aborted and counted; none is allowed.
 */

const MODULE = 'values-and-types';
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Aborts (and records) every request that leaves the machine. */
async function offline(context: BrowserContext, outside: string[]) {
	await context.route('**/*', (route) => {
		const url = new URL(route.request().url());
		if (url.protocol === 'data:' || url.protocol === 'blob:' || LOOPBACK.has(url.hostname))
			return route.continue();
		outside.push(url.href);
		return route.abort('blockedbyclient');
	});
}

async function firstCodeCell(lab: Page) {
	const cell = lab.locator('.jp-Notebook .jp-CodeCell').first();
	await expect(cell).toBeVisible({ timeout: 30_000 });
	return cell;
}

test('open a module notebook in the lab, run a cell, and find the edit in a fresh profile', async ({
	browser
}) => {
	test.setTimeout(180_000);
	const outside: string[] = [];
	const email = uniqueEmail('lab');

	const first = await browser.newContext();
	await offline(first, outside);
	const page = await first.newPage();
	await registerViaUi(page, email, 'Lab Student');
	await page.goto(`/learn/${MODULE}`);
	await expect(page.getByRole('heading', { name: 'Practice notebook' })).toBeVisible();
	await expectAccessible(page);

	const opened = Date.now();
	const [lab] = await Promise.all([
		first.waitForEvent('page'),
		page.getByRole('link', { name: /Open in the lab/ }).click()
	]);
	await expect(lab).toHaveURL(/\/jupyterlite\/lab\/index\.html\?path=values-and-types\.ipynb/);
	const cell = await firstCodeCell(lab);
	const editor = cell.locator('.cm-content');
	await editor.click();
	await lab.keyboard.press('ControlOrMeta+A');
	await lab.keyboard.type('answer = 6 * 7\nprint("the answer is", answer)');
	await lab.keyboard.press('Shift+Enter');
	await expect(cell.locator('.jp-OutputArea-output')).toContainText('the answer is 42', {
		timeout: 60_000
	});
	const coldStart = Date.now() - opened;
	console.log(`cold start, click to first cell output: ${(coldStart / 1000).toFixed(1)} s`);

	// Save (Ctrl+S) and wait for the server to have it.
	await editor.click();
	const saved = lab.waitForResponse(
		(r) => r.url().includes(`/api/me/notebooks/${MODULE}`) && r.request().method() === 'PUT'
	);
	await lab.keyboard.press('ControlOrMeta+S');
	expect((await saved).status()).toBe(200);
	await first.close();

	// A fresh browser profile: nothing carried over but the account.
	const second = await browser.newContext();
	await offline(second, outside);
	const again = await second.newPage();
	await loginViaUi(again, email);
	await expect(again).toHaveURL(/\/dashboard$/);
	await again.goto(`/learn/${MODULE}`);
	await expect(again.getByText(/Your copy, saved/)).toBeVisible();
	const [lab2] = await Promise.all([
		second.waitForEvent('page'),
		again.getByRole('link', { name: /Open in the lab/ }).click()
	]);
	const restored = await firstCodeCell(lab2);
	await expect(restored.locator('.cm-content')).toContainText('answer = 6 * 7');
	await expect(restored.locator('.cm-content')).toContainText('print("the answer is", answer)');

	// Reset to the original (with confirmation) brings the course version back.
	await again.getByRole('button', { name: 'Reset to the original…' }).click();
	await again.getByRole('button', { name: 'Reset to the original', exact: true }).click();
	await expect(again.getByText('Your notebook is back to the course version.')).toBeVisible();
	const reset = await again.request.get(`/api/me/notebooks/${MODULE}`);
	const body = (await reset.json()) as { edited: boolean };
	expect(body.edited).toBe(false);
	await second.close();

	expect(outside).toEqual([]);
});

test('the lesson page links to the module notebook', async ({ page }) => {
	await registerViaUi(page, uniqueEmail('lab-lesson'));
	await page.goto(`/learn/${MODULE}`);
	await page.getByRole('link', { name: 'Start the module' }).click();
	const link = page.getByRole('link', { name: /Open in the lab/ });
	await expect(link).toHaveAttribute('href', `/jupyterlite/lab/index.html?path=${MODULE}.ipynb`);
	await expectAccessible(page);
});
