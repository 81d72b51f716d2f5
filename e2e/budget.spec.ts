import { expect, test, type Page } from '@playwright/test';
import { askTutor, expectAccessible, registerViaUi, signInAsAdmin, uniqueEmail } from './helpers';

async function setStudentLimit(page: Page, dollars: string) {
	const field = page.getByLabel('Daily limit per student ($)');
	// Typing before the page has hydrated would be reset by it: wait until the scripts are in.
	await page.goto('/admin/budgets', { waitUntil: 'networkidle' });
	await field.fill(dollars);
	await page.getByRole('button', { name: 'Save settings' }).click();
	await expect(page.getByRole('button', { name: 'Save settings' })).toBeEnabled();
	// Saved on the server: a fresh load shows it.
	await expect(async () => {
		await page.reload({ waitUntil: 'networkidle' });
		await expect(field).toHaveValue(dollars, { timeout: 1000 });
	}).toPass({ timeout: 15_000 });
}

test('a student over the daily AI limit is told so and answered from the course material', async ({
	page,
	browser
}) => {
	await signInAsAdmin(page);
	// One question reserves its worst case (about 0.05 $ with the mock model): 0.01 $ refuses it.
	await setStudentLimit(page, '0.01');
	const studentContext = await browser.newContext();
	const student = await studentContext.newPage();
	try {
		await registerViaUi(student, uniqueEmail('budget'));
		await student.getByRole('button', { name: 'Ask the tutor' }).click();
		await expect(student).toHaveURL(/\/tutor\/[0-9a-f-]{36}$/);
		// Sent once the socket is ready (the helper presses Enter until the field clears).
		await askTutor(student, 'What is a for loop?');
		const answer = student.locator('article[aria-label="Tutor"]').last();
		await expect(answer.getByRole('note')).toContainText('reached today’s AI tutor allowance');
		await expect(answer).toContainText('Offline tutor');
		await expect(student.getByRole('button', { name: 'Send' })).toBeVisible();
		await expectAccessible(student);
		await answer.getByRole('note').scrollIntoViewIfNeeded();
		await student.screenshot({ path: 'docs/screenshots/tutor-budget.png' });
		// The notice is saved with the answer: a reload shows it again.
		await student.reload();
		await expect(
			student.locator('article[aria-label="Tutor"]').last().getByRole('note')
		).toBeVisible();

		// The operator sees the crossing in the console (the alert is recorded just after the refusal).
		await expect(async () => {
			await page.goto('/admin/budgets');
			const alerts = page.locator('section[aria-labelledby="alerts-h"] li', {
				hasText: 'Limit reached'
			});
			await expect(alerts.filter({ hasText: '$0.01' }).first()).toBeVisible({ timeout: 1000 });
		}).toPass({ timeout: 15_000 });
	} finally {
		await setStudentLimit(page, '0.5');
		await studentContext.close();
	}
});
