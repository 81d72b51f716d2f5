import { expect, test } from '@playwright/test';
import {
	PASSWORD,
	expectAccessible,
	loginViaUi,
	registerViaUi,
	signInAsAdmin,
	uniqueEmail
} from './helpers';

test('register, log out, log in, change password, log out everywhere', async ({
	page,
	browser
}) => {
	const email = uniqueEmail();
	await registerViaUi(page, email, 'Ada Lovelace');
	await expect(page.getByRole('heading', { name: 'Hello, Ada Lovelace' })).toBeVisible();

	await page.getByRole('button', { name: 'Log out' }).click();
	await expect(page).toHaveURL(/\/login/);
	await page.goto('/dashboard');
	await expect(page).toHaveURL(/\/login\?next=%2Fdashboard/);

	await loginViaUi(page, email);
	await expect(page).toHaveURL(/\/dashboard$/);

	// A second device, signed in too.
	const other = await browser.newContext();
	const otherPage = await other.newPage();
	await loginViaUi(otherPage, email);
	await expect(otherPage).toHaveURL(/\/dashboard$/);

	await page.goto('/account');
	await page.getByLabel('Current password').fill('not my password');
	await page.getByLabel('New password', { exact: true }).fill('an even better password');
	await page.getByLabel('Repeat new password').fill('an even better password');
	await page.getByRole('button', { name: 'Change password' }).click();
	await expect(page.getByText('Your current password is not correct.')).toBeVisible();
	await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');

	await page.getByLabel('Current password').fill(PASSWORD);
	await page.getByLabel('New password', { exact: true }).fill('an even better password');
	await page.getByLabel('Repeat new password').fill('an even better password');
	await page.getByRole('button', { name: 'Change password' }).click();
	await expect(
		page.getByText('Password changed. Every other device has been signed out.')
	).toBeVisible();

	// The other device was signed out by the password change.
	await otherPage.goto('/account');
	await expect(otherPage).toHaveURL(/\/login/);
	await loginViaUi(otherPage, email, 'an even better password');
	await expect(otherPage).toHaveURL(/\/dashboard$/);

	// Log out everywhere from the first device ends both.
	await page.goto('/account');
	await page.getByRole('button', { name: 'Log out everywhere' }).click();
	await page.getByRole('button', { name: 'Yes, log out everywhere' }).click();
	await expect(page).toHaveURL(/\/login/);
	await otherPage.goto('/dashboard');
	await expect(otherPage).toHaveURL(/\/login/);
	await page.goto('/dashboard');
	await expect(page).toHaveURL(/\/login/);
	await other.close();
});

test('inline errors on bad input, and the old password stops working', async ({ page }) => {
	await page.goto('/register');
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page.getByText('Enter your email address.')).toBeVisible();
	await expect(page.getByText('Enter a display name.')).toBeVisible();
	await expect(page.getByText('Choose a password.')).toBeVisible();
	await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');

	await page.getByLabel('Email').fill('not an email');
	await page.getByLabel('Display name').fill('Kim');
	await page.getByLabel('Password', { exact: true }).fill('short');
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page.getByText('Enter an email address like name@example.com.')).toBeVisible();
	await expect(page.getByText('Use at least 10 characters.')).toBeVisible();
	// What was typed stays.
	await expect(page.getByLabel('Display name')).toHaveValue('Kim');

	await loginViaUi(page, 'nobody@example.com', 'whatever password');
	await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
});

test('a student is kept out of /admin; the admin gets in', async ({ page, browser }) => {
	await registerViaUi(page, uniqueEmail());
	await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0);
	const res = await page.goto('/admin');
	expect(res?.status()).toBe(403);
	await expect(page.getByRole('heading', { name: 'Not allowed here' })).toBeVisible();

	const adminContext = await browser.newContext();
	const admin = await adminContext.newPage();
	await signInAsAdmin(admin);
	await admin.getByRole('link', { name: 'Admin' }).click();
	await expect(admin.getByRole('heading', { name: 'Users' })).toBeVisible();
	await expect(admin.getByRole('cell', { name: 'admin@example.com', exact: true })).toBeVisible();
	await expectAccessible(admin);
	await adminContext.close();
});

test('an anonymous visitor is sent to log in, and back afterwards', async ({ page }) => {
	const email = uniqueEmail();
	await registerViaUi(page, email);
	await page.getByRole('button', { name: 'Log out' }).click();
	await expect(page).toHaveURL(/\/login/);
	await page.goto('/account');
	await expect(page).toHaveURL(/\/login\?next=%2Faccount/);
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', { name: 'Log in' }).click();
	await expect(page).toHaveURL(/\/account$/);
	await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
});
