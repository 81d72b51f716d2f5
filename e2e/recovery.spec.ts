import { expect, test } from '@playwright/test';
import { linkIn, startMailbox, type Mailbox } from '../tests/fakes/mailbox.ts';
import { PASSWORD, expectAccessible, loginViaUi, registerViaUi, uniqueEmail } from './helpers';

// The server sends to SMTP_PORT (playwright.config.ts); the mailbox listens there.
let mailbox: Mailbox;
test.beforeAll(async () => {
	mailbox = await startMailbox(Number(process.env.E2E_SMTP_PORT ?? 4025));
});
test.afterAll(async () => {
	await mailbox?.close();
});

test('a new account confirms its email from the link in the mail', async ({ page }) => {
	const email = uniqueEmail('verify');
	await registerViaUi(page, email, 'Vera Verify');
	await page.goto('/account');
	await expect(page.getByText('Not confirmed')).toBeVisible();
	await expectAccessible(page);

	const link = linkIn(await mailbox.next(email), '/verify-email');
	await page.goto(link.href);
	await expect(page.getByRole('heading', { name: 'Confirm your email' })).toBeVisible();
	await expectAccessible(page);
	await page.getByRole('button', { name: 'Confirm my email' }).click();
	await expect(page.getByRole('status')).toHaveText(/Your email address is confirmed/);
	await page.getByRole('link', { name: 'Back to your account' }).click();
	await expect(page).toHaveURL(/\/account$/);
	await expect(page.getByText('Confirmed', { exact: true })).toBeVisible();
	await expect(page.getByRole('button', { name: 'Send verification link' })).toHaveCount(0);

	// The page a school that requires confirmed addresses shows after registering.
	await page.goto('/verify-email?sent=1');
	await expect(page.getByRole('heading', { name: 'Check your inbox' })).toBeVisible();
	await expectAccessible(page);
});

test('a forgotten password is reset from the link in the mail', async ({ page, browser }) => {
	const email = uniqueEmail('forgot');
	await registerViaUi(page, email, 'Felix Forgetful');
	await mailbox.next(email); // the verification mail
	const signedOut = await browser.newContext();
	const visitor = await signedOut.newPage();

	await visitor.goto('/login');
	await visitor.getByRole('link', { name: 'Forgot password?' }).click();
	await expect(visitor).toHaveURL(/\/forgot-password$/);
	await expectAccessible(visitor);
	await visitor.getByLabel('Email').fill(email);
	await visitor.getByRole('button', { name: 'Send me a link' }).click();
	await expect(visitor.getByRole('status')).toHaveText(/If an account uses that address/);

	const link = linkIn(await mailbox.next(email), '/reset-password');
	await visitor.goto(link.href);
	await expect(visitor.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
	await expectAccessible(visitor);
	const fresh = 'my fresh long password';
	await visitor.getByLabel('New password', { exact: true }).fill(fresh);
	await visitor.getByLabel('Repeat new password').fill('something else entirely');
	await visitor.getByRole('button', { name: 'Set password and log in' }).click();
	await expect(visitor.getByText('The two new passwords do not match.')).toBeVisible();
	await visitor.getByLabel('Repeat new password').fill(fresh);
	await visitor.getByRole('button', { name: 'Set password and log in' }).click();
	await expect(visitor).toHaveURL(/\/dashboard\?notice=password-reset$/);
	await expect(visitor.getByText('Your new password is set')).toBeVisible();
	await expect(visitor.getByRole('heading', { name: 'Hello, Felix Forgetful' })).toBeVisible();

	// The first browser's session ended with the reset; the old password no longer works.
	await page.goto('/dashboard');
	await expect(page).toHaveURL(/\/login\?next=%2Fdashboard/);
	await loginViaUi(page, email, PASSWORD);
	await expect(page.getByRole('alert')).toHaveText(/Email or password is incorrect/);
	await loginViaUi(page, email, fresh);
	await expect(page).toHaveURL(/\/dashboard$/);
	await signedOut.close();
});
