import { expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

export const PASSWORD = 'a sensible long password';

let counter = 0;
export function uniqueEmail(prefix = 'student') {
	counter += 1;
	return `${prefix}.${Date.now().toString(36)}${counter}@example.com`;
}

export async function registerViaUi(
	page: Page,
	email: string,
	name = 'Sam Student',
	password = PASSWORD
) {
	await page.goto('/register');
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Display name').fill(name);
	await page.getByLabel('Password', { exact: true }).fill(password);
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page).toHaveURL(/\/dashboard$/);
}

/**
 * Signs in as the admin (ADMIN_EMAIL): registers the account and enters the setup code
 * (ADMIN_SETUP_CODE in playwright.config.ts) on first use, logs in after that.
 */
export async function signInAsAdmin(page: Page, email = 'admin@example.com') {
	await page.goto('/register');
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Display name').fill('Ada Admin');
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.getByRole('button', { name: 'Create account' }).click();
	// Either the dashboard greets the new account, or the form says it exists already.
	const existing = page.getByText('An account with this email already exists');
	await expect(existing.or(page.getByRole('heading', { name: /^Hello,/ }))).toBeVisible();
	if (await existing.isVisible()) {
		await loginViaUi(page, email);
		await expect(page).toHaveURL(/\/dashboard$/);
	}
	await page.goto('/admin');
	if (new URL(page.url()).pathname === '/admin-setup') {
		await page.getByLabel('Setup code').fill('e2e-admin-setup-code-0123456789');
		await page.getByRole('button', { name: 'Become administrator' }).click();
		// Another worker may have spent the code for this same account a moment earlier.
		await Promise.race([page.waitForURL(/\/admin$/), page.getByRole('alert').waitFor()]);
		await page.goto('/admin');
		await expect(page).toHaveURL(/\/admin$/);
	}
	await page.goto('/dashboard');
}

export async function loginViaUi(page: Page, email: string, password = PASSWORD) {
	await page.goto('/login');
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Log in' }).click();
}

/** Fails on serious or critical accessibility violations (axe-core, WCAG 2.x A and AA). */
export async function expectAccessible(page: Page) {
	const results = await new AxeBuilder({ page })
		.withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
		.analyze();
	const serious = results.violations.filter(
		(v) => v.impact === 'serious' || v.impact === 'critical'
	);
	expect(
		serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
	).toEqual([]);
}

/**
 * Sends `text` to the tutor from a conversation page. A key pressed before the page has hydrated
 * goes nowhere (the field keeps the text): until the field empties, which the page does the moment
 * it sends, type and press Enter again.
 */
export async function askTutor(page: Page, text: string) {
	const field = page.getByLabel('Message the tutor');
	await expect(async () => {
		if ((await field.inputValue()) !== text) await field.fill(text);
		await field.press('Enter');
		await expect(field).toHaveValue('', { timeout: 1000 });
	}).toPass({ timeout: 15_000 });
}

/** Replaces a CodeMirror editor's text the way a paste would. */
export async function setCode(page: Page, label: string, code: string) {
	const editor = page.getByRole('textbox', { name: label, exact: true });
	await editor.click();
	await page.keyboard.press('ControlOrMeta+A');
	await page.keyboard.press('Delete');
	await page.keyboard.insertText(code);
}
