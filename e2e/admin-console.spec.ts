import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { askTutor, expectAccessible, registerViaUi, signInAsAdmin, uniqueEmail } from './helpers';

const SHOTS = 'docs/screenshots';

/** The row of the users table that shows `email`. */
const row = (page: Page, email: string) =>
	page.getByRole('row').filter({ has: page.getByRole('cell', { name: email, exact: true }) });

test('an admin manages an account, reads the AI usage and the audit log, and sets budgets', async ({
	page,
	browser
}) => {
	test.setTimeout(180_000);

	// A student asks the mock tutor something, so there is usage to see.
	const studentContext = await browser.newContext();
	const student = await studentContext.newPage();
	const email = uniqueEmail('console');
	await registerViaUi(student, email, 'Casey Console');
	await student.getByRole('button', { name: 'Ask the tutor' }).click();
	await expect(student).toHaveURL(/\/tutor\/[0-9a-f-]{36}$/);
	await askTutor(student, 'How do I reverse a list?');
	await expect(student.locator('article[aria-label="Tutor"]').last()).toContainText('Token 40');

	// Users: search, promote and demote, disable.
	await signInAsAdmin(page);
	await page.goto('/admin');
	await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
	await page.getByLabel('Search users').fill(email);
	await page.getByRole('button', { name: 'Search' }).click();
	await expect(page).toHaveURL(/\?q=/);
	const casey = row(page, email);
	await expect(casey).toHaveCount(1);
	await expect(casey.getByRole('cell', { name: 'student', exact: true })).toBeVisible();
	// The mock provider is priced like a real model: the answer cost something today.
	await expect(casey.getByRole('cell', { name: /^\$0\.0*[1-9]/ })).toBeVisible();
	await expectAccessible(page);

	await page.screenshot({ path: `${SHOTS}/admin-users.png`, fullPage: false });

	await casey.getByRole('button', { name: `Make admin: ${email}` }).click();
	await expect(page.getByRole('status')).toHaveText(`${email} is now an admin.`);
	await expect(casey.getByRole('cell', { name: 'admin', exact: true })).toBeVisible();
	await casey.getByRole('button', { name: `Make student: ${email}` }).click();
	await expect(page.getByRole('status')).toHaveText(`${email} is now a student.`);

	await casey.getByRole('button', { name: `Disable: ${email}` }).click();
	await expect(page.getByRole('status')).toHaveText(
		`${email} is disabled and signed out everywhere.`
	);
	await expect(casey.getByRole('cell', { name: 'Disabled' })).toBeVisible();
	// Focus stays on the same button, now offering the opposite.
	await expect(casey.getByRole('button', { name: `Enable: ${email}` })).toBeFocused();
	await student.reload();
	await expect(student).toHaveURL(/\/login\?next=/);

	// Export: a JSON file with the conversation and no password hash.
	const [download] = await Promise.all([
		page.waitForEvent('download'),
		casey.getByRole('link', { name: `Export data: ${email}` }).click()
	]);
	expect(download.suggestedFilename()).toMatch(/^user-console\..+\.json$/);
	const exported = readFileSync(await download.path(), 'utf8');
	expect(exported).not.toMatch(/argon2|passwordHash/);
	const data = JSON.parse(exported) as {
		profile: { email: string };
		conversations: { messages: { content: string }[] }[];
	};
	expect(data.profile.email).toBe(email);
	expect(data.conversations[0]?.messages[0]?.content).toBe('How do I reverse a list?');

	// The user's own page: profile, usage, conversation titles only.
	await casey.getByRole('link', { name: 'Casey Console' }).click();
	await expect(page.getByRole('heading', { name: 'Casey Console', level: 1 })).toBeVisible();
	await expect(page.getByText('How do I reverse a list?')).toBeVisible();
	await expect(page.locator('svg[role="img"] > title')).toHaveText(
		`AI cost per day for ${email}, last 30 days`
	);
	await expectAccessible(page);
	await page.screenshot({ path: `${SHOTS}/admin-user.png`, fullPage: true });

	// AI usage: figures, the chart, the model table, top users, and the provider check.
	await page
		.getByRole('navigation', { name: 'Admin' })
		.getByRole('link', { name: 'AI usage' })
		.click();
	await expect(page.getByRole('heading', { name: 'AI usage', level: 1 })).toBeVisible();
	await expect(page.getByText('Working')).toBeVisible();
	await expect(page.getByRole('table', { name: /Cost and calls by model/ })).toContainText(
		'mock-tutor'
	);
	await expect(page.getByRole('table', { name: 'Top users today, by cost' })).toContainText(email);
	await expect(page.getByRole('table', { name: 'AI cost per day, last 30 days' })).toHaveCount(1);
	await page.getByRole('button', { name: 'Check now' }).click();
	await expect(page.getByText('Working')).toBeVisible();
	await expectAccessible(page);
	await page.screenshot({ path: `${SHOTS}/admin-usage.png`, fullPage: true });

	// Delete: the dialog wants the email typed.
	await page.goto(`/admin?q=${encodeURIComponent(email)}`);
	await row(page, email)
		.getByRole('button', { name: `Delete ${email}` })
		.click();
	const dialog = page.getByRole('dialog', { name: `Delete ${email}?` });
	await expect(dialog).toBeVisible();
	const confirm = dialog.getByRole('button', { name: 'Delete account' });
	await expect(confirm).toBeDisabled();
	await dialog.getByLabel(`Type ${email} to confirm`).fill('not the email');
	await expect(confirm).toBeDisabled();
	await dialog.getByLabel(`Type ${email} to confirm`).fill(email);
	await confirm.click();
	await expect(dialog).toBeHidden();
	await expect(page.getByRole('status')).toHaveText(
		`Deleted ${email} and everything stored about them.`
	);
	await expect(page.getByText(`No users match “${email}”.`)).toBeVisible();

	// The audit log has every step, and filters by action.
	await page
		.getByRole('navigation', { name: 'Admin' })
		.getByRole('link', { name: 'Audit log' })
		.click();
	await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
	for (const action of [
		'user.role_change',
		'user.disable',
		'user.export',
		'user.delete',
		'ai.health_check'
	])
		await expect(page.getByRole('cell', { name: action, exact: true }).first()).toBeVisible();
	await page.getByLabel('Action').selectOption('user.delete');
	await page.getByRole('button', { name: 'Filter' }).click();
	await expect(page).toHaveURL(/action=user\.delete/);
	await expect(page.getByRole('cell', { name: 'user.delete', exact: true }).first()).toBeVisible();
	await expect(page.getByRole('cell', { name: 'user.export', exact: true })).toHaveCount(0);
	await expect(page.getByText(email).first()).toBeVisible();
	await expectAccessible(page);
	await page.getByRole('link', { name: 'Clear' }).click();
	await expect(page.getByRole('cell', { name: 'user.export', exact: true }).first()).toBeVisible();
	await page.screenshot({ path: `${SHOTS}/admin-audit.png`, fullPage: false });

	// Budgets: a bad value is refused in place; a good one is saved; a price is edited.
	await page
		.getByRole('navigation', { name: 'Admin' })
		.getByRole('link', { name: 'Budgets' })
		.click();
	await expect(page.getByRole('heading', { name: 'Budgets and prices', level: 1 })).toBeVisible();
	const warn = page.getByLabel('Warn at (% of a limit)');
	await warn.fill('150');
	await page.getByRole('button', { name: 'Save settings' }).click();
	await expect(page.getByText('The warning level must be at most 100%')).toBeVisible();
	await expect(warn).toHaveValue('150');
	await expect(warn).toHaveAttribute('aria-invalid', 'true');
	await warn.fill('75');
	await page.getByLabel('Daily limit for the whole server ($)').fill('20');
	await page.getByRole('button', { name: 'Save settings' }).click();
	await expect(page.getByText('Settings saved.')).toBeVisible();
	await expect(page.getByRole('progressbar', { name: /daily limit/ })).toBeVisible();
	const input = page.getByLabel('Input price of mock-tutor-mini, dollars per million tokens', {
		exact: true
	});
	await input.fill('2');
	await page.getByRole('button', { name: 'Save price of mock-tutor-mini' }).click();
	await expect(page.getByText('Saved the price of mock-tutor-mini.')).toBeVisible();
	await expect(input).toHaveValue('2');
	await expect(page.getByRole('button', { name: 'Reset price of mock-tutor-mini' })).toBeVisible();
	await page.getByRole('button', { name: 'Reset price of mock-tutor-mini' }).click();
	await expect(page.getByRole('button', { name: 'Reset price of mock-tutor-mini' })).toHaveCount(0);
	await expect(input).toHaveValue('1');
	await expectAccessible(page);
	await page.evaluate(() => window.scrollTo(0, 0));
	await page.screenshot({ path: `${SHOTS}/admin-budgets.png`, fullPage: true });

	await studentContext.close();
});

test('the admin console in dark mode and on a phone, with the keyboard', async ({ browser }) => {
	const dark = await browser.newContext({ colorScheme: 'dark' });
	const page = await dark.newPage();
	await signInAsAdmin(page);
	await page.goto('/admin');
	await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
	await expectAccessible(page);
	await page.screenshot({ path: `${SHOTS}/admin-users-dark.png`, fullPage: false });
	await page.goto('/admin/usage');
	await expect(page.getByText('Working')).toBeVisible();
	await expectAccessible(page);
	await page.screenshot({ path: `${SHOTS}/admin-usage-dark.png`, fullPage: true });
	await page.goto('/admin/budgets');
	await expectAccessible(page);
	await page.screenshot({ path: `${SHOTS}/admin-budgets-dark.png`, fullPage: false });
	await dark.close();

	const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
	const mobile = await phone.newPage();
	await signInAsAdmin(mobile);
	await mobile.goto('/admin');
	// Every account is a card with labelled fields; nothing scrolls sideways.
	const width = await mobile.evaluate(() => document.documentElement.scrollWidth);
	expect(width).toBeLessThanOrEqual(390);
	await expect(mobile.getByRole('link', { name: 'Export data: admin@example.com' })).toBeVisible();
	await expectAccessible(mobile);
	await mobile.screenshot({ path: `${SHOTS}/admin-users-mobile.png`, fullPage: false });
	await mobile.goto('/admin/usage');
	await expect(mobile.getByText('Working')).toBeVisible();
	expect(await mobile.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
		390
	);
	await expectAccessible(mobile);
	await mobile.screenshot({ path: `${SHOTS}/admin-usage-mobile.png`, fullPage: true });
	await mobile.goto('/admin/audit');
	expect(await mobile.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
		390
	);
	await expectAccessible(mobile);
	await mobile.screenshot({ path: `${SHOTS}/admin-audit-mobile.png`, fullPage: false });

	// Keyboard: the admin sub-navigation and the audit filter are reachable and usable.
	await mobile.goto('/admin/audit');
	await mobile.getByLabel('Actor email').focus();
	await mobile.keyboard.type('admin@');
	await mobile.keyboard.press('Enter');
	await expect(mobile).toHaveURL(/actor=admin%40/);
	await expect(mobile.getByRole('cell', { name: 'admin@example.com' }).first()).toBeVisible();
	await phone.close();
});
