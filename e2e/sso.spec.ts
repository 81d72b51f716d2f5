import { expect, test, type Page } from '@playwright/test';
import { oidcPort } from './ports';
import { startOidcProvider, type RunningProvider } from '../tests/fakes/oidc';
import {
	PASSWORD,
	expectAccessible,
	loginViaUi,
	registerViaUi,
	signInAsAdmin,
	uniqueEmail
} from './helpers';

// A real OpenID Provider (oidc-provider) on the port the e2e server is configured with.
let op: RunningProvider;
test.beforeAll(async ({ baseURL }) => {
	op = await startOidcProvider({
		port: oidcPort,
		clients: [
			{
				id: 'tutor-e2e',
				secret: 'tutor-e2e-secret',
				redirectUris: [`${baseURL}/auth/sso/school/callback`]
			}
		]
	});
});
test.afterAll(() => op?.close());

/** Signs in at the provider's own login and consent pages as `login`. */
async function atProvider(page: Page, login: string) {
	await expect(page).toHaveURL(new RegExp(`^http://127\\.0\\.0\\.1:${oidcPort}/interaction/`));
	await page.locator('input[name="login"]').fill(login);
	await page.locator('input[name="password"]').fill('any password');
	await page.getByRole('button', { name: 'Sign-in' }).click();
	await page.getByRole('button', { name: 'Continue' }).click();
}

test('sign up with the school provider, log out, sign in again to the same account', async ({
	page
}) => {
	const email = uniqueEmail('sso');
	op.accounts.set('e2e-ada', { email, email_verified: true, name: 'Ada Provider' });
	await page.goto('/login');
	await expectAccessible(page);
	await page.getByRole('link', { name: 'Sign in with School ID' }).click();
	await atProvider(page, 'e2e-ada');
	await expect(page).toHaveURL(/\/dashboard$/);
	await expect(page.getByRole('heading', { name: 'Hello, Ada Provider' })).toBeVisible();

	await page.goto('/account');
	await expect(page.getByRole('heading', { name: 'Sign-in methods' })).toBeVisible();
	await expect(page.getByText(email).first()).toBeVisible();
	await expectAccessible(page);

	await page.getByRole('button', { name: 'Log out', exact: true }).click();
	await expect(page).toHaveURL(/\/login/);
	await page.goto('/dashboard');
	await expect(page).toHaveURL(/\/login\?next=%2Fdashboard/);

	// The provider remembers the person and the consent: straight back, same account.
	await page.getByRole('link', { name: 'Sign in with School ID' }).click();
	await expect(page).toHaveURL(/\/dashboard$/);
	await expect(page.getByRole('heading', { name: 'Hello, Ada Provider' })).toBeVisible();
});

test('link the provider to a password account from the account page, then sign in with it', async ({
	page,
	browser
}) => {
	const email = uniqueEmail('linker');
	await registerViaUi(page, email, 'Grace Password');
	// The provider's address differs and is unverified: linking while signed in needs neither.
	op.accounts.set('e2e-grace', { email: 'grace.elsewhere@example.org', email_verified: false });
	await page.goto('/account');
	await page.getByRole('link', { name: 'Link School ID' }).click();
	await atProvider(page, 'e2e-grace');
	await expect(page).toHaveURL(/\/account\?sso=linked/);
	await expect(page.getByText('School ID is linked')).toBeVisible();
	await expect(page.getByText('grace.elsewhere@example.org')).toBeVisible();

	const fresh = await browser.newContext();
	const other = await fresh.newPage();
	await other.goto('/login');
	await other.getByRole('link', { name: 'Sign in with School ID' }).click();
	await atProvider(other, 'e2e-grace');
	await expect(other).toHaveURL(/\/dashboard$/);
	await expect(other.getByRole('heading', { name: 'Hello, Grace Password' })).toBeVisible();
	await fresh.close();

	await page.getByRole('button', { name: 'Unlink School ID' }).click();
	await expect(page.getByText('No provider linked yet')).toBeVisible();
});

test('an unverified provider email never signs in to an existing account', async ({
	page,
	browser
}) => {
	const email = uniqueEmail('victim');
	await registerViaUi(page, email, 'Victim');
	const attacker = await browser.newContext();
	const p = await attacker.newPage();
	op.accounts.set('e2e-mallory', { email, email_verified: false });
	await p.goto('/login');
	await p.getByRole('link', { name: 'Sign in with School ID' }).click();
	await atProvider(p, 'e2e-mallory');
	await expect(p).toHaveURL(/\/login\?sso=unverified/);
	await expect(p.getByRole('alert')).toContainText('did not confirm your email address');
	await attacker.close();
});

test('the admin keeps a domain to single sign-on; its password log in is refused', async ({
	page,
	browser
}) => {
	const student = await browser.newContext();
	const sp = await student.newPage();
	const email = uniqueEmail('kid').replace('@example.com', '@sso-only.example');
	await registerViaUi(sp, email, 'Kid');
	await sp.getByRole('button', { name: 'Log out', exact: true }).click();

	await signInAsAdmin(page);
	await page.goto('/admin/sign-in');
	await expect(page.getByText('/auth/sso/school/callback')).toBeVisible();
	await expectAccessible(page);
	await page.getByLabel('Email domains that must use single sign-on').fill('sso-only.example');
	await page.getByRole('button', { name: 'Save' }).click();
	await expect(page.getByText('Sign-in settings saved.')).toBeVisible();

	await loginViaUi(sp, email, PASSWORD);
	await expect(sp.getByRole('alert')).toContainText('Sign in with your school account');
	await student.close();

	await page.getByLabel('Email domains that must use single sign-on').fill('');
	await page.getByRole('button', { name: 'Save' }).click();
	await expect(page.getByText('Sign-in settings saved.')).toBeVisible();
});

test('the admin sign-in page fits a phone', async ({ page }) => {
	await page.setViewportSize({ width: 390, height: 844 });
	await signInAsAdmin(page);
	await page.goto('/admin/sign-in');
	await expect(page.getByRole('heading', { name: 'Sign-in', exact: true })).toBeVisible();
	const overflow = await page.evaluate(
		() => document.documentElement.scrollWidth - document.documentElement.clientWidth
	);
	expect(overflow).toBeLessThanOrEqual(0);
});
