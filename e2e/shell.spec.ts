import { expect, test } from '@playwright/test';
import { expectAccessible, registerViaUi, uniqueEmail } from './helpers';

test('public pages are accessible in light and dark mode', async ({ page }) => {
	for (const scheme of ['light', 'dark'] as const) {
		await page.emulateMedia({ colorScheme: scheme });
		for (const path of ['/', '/login', '/register']) {
			await page.goto(path);
			await expectAccessible(page);
		}
	}
});

test('signed-in pages are accessible', async ({ page }) => {
	await registerViaUi(page, uniqueEmail());
	for (const path of ['/dashboard', '/account']) {
		await page.goto(path);
		await expectAccessible(page);
	}
});

test('the theme toggle switches to dark and the choice survives a reload', async ({ page }) => {
	await page.emulateMedia({ colorScheme: 'light' });
	await page.goto('/');
	const toggle = page.getByRole('button', { name: /theme/ });
	await toggle.click(); // system → light
	await toggle.click(); // light → dark
	await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
	await page.reload();
	await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
	const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
	expect(bg).toBe('rgb(13, 17, 23)');
});

test('keyboard: skip link and the login form work without a mouse', async ({ page }) => {
	await page.goto('/login');
	await page.keyboard.press('Tab');
	await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
	await page.keyboard.press('Enter');
	await page.getByLabel('Email').focus();
	await page.keyboard.type('nobody@example.com');
	await page.keyboard.press('Tab');
	await page.keyboard.type('wrong password!');
	await page.keyboard.press('Enter');
	await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
});

test('the navigation collapses into a menu on a phone', async ({ page }) => {
	await page.setViewportSize({ width: 390, height: 800 });
	await page.goto('/');
	const menu = page.getByRole('button', { name: 'Menu' });
	await expect(menu).toBeVisible();
	await expect(page.getByRole('link', { name: 'Sign up' })).toBeHidden();
	await menu.click();
	await expect(menu).toHaveAttribute('aria-expanded', 'true');
	await expect(page.getByRole('link', { name: 'Sign up' })).toBeVisible();
});
