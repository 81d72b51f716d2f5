import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { PASSWORD, expectAccessible, loginViaUi, registerViaUi, uniqueEmail } from './helpers';

test('rename, download my data, delete the account with the password', async ({ page }) => {
	const email = uniqueEmail('self');
	await registerViaUi(page, email, 'Sam Student');
	await page.goto('/account');
	await expectAccessible(page);

	// The new name shows in the header once saved.
	await page.getByLabel('Change display name').fill('Grace Hopper');
	await page.getByRole('button', { name: 'Save name' }).click();
	await expect(page.getByText('Display name saved.')).toBeVisible();
	await expect(page.getByRole('banner').getByText('Grace Hopper')).toBeVisible();

	// The download is the user's own data.
	const downloaded = page.waitForEvent('download');
	await page.getByRole('link', { name: 'Download my data' }).click();
	const download = await downloaded;
	expect(download.suggestedFilename()).toMatch(/^ai-coding-tutor-data-\d{4}-\d{2}-\d{2}\.json$/);
	const data = JSON.parse(await readFile((await download.path())!, 'utf8')) as {
		profile: { email: string; displayName: string };
	};
	expect(data.profile).toMatchObject({ email, displayName: 'Grace Hopper' });

	// A wrong password deletes nothing; the right one ends on the notice.
	await page.getByText('Delete my account', { exact: true }).click();
	const section = page.getByRole('region', { name: 'Your data' });
	await section.getByLabel('Your password').fill('not my password');
	await section.getByLabel(/Type your email/).fill(email);
	await expectAccessible(page);
	await section.getByRole('button', { name: 'Delete my account permanently' }).click();
	await expect(section.getByText('Your current password is not correct.')).toBeVisible();
	await section.getByLabel('Your password').fill(PASSWORD);
	await section.getByRole('button', { name: 'Delete my account permanently' }).click();
	await expect(page).toHaveURL(/\/login\?deleted=1$/);
	await expect(page.getByRole('status')).toContainText('Your account was deleted');

	await loginViaUi(page, email);
	await expect(page.getByText('Email or password is incorrect.')).toBeVisible();
	await page.goto('/dashboard');
	await expect(page).toHaveURL(/\/login\?next=/);
});
