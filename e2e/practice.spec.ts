import { expect, test, type Page } from '@playwright/test';
import { expectAccessible, registerViaUi, uniqueEmail } from './helpers';

// One student through the whole practice area, in order (the mock exam's questions then count in
// the stats). The test of blank mock-exam questions has a student of its own.
test.describe.configure({ mode: 'serial' });

let page: Page;
const email = uniqueEmail('practice');

test.beforeAll(async ({ browser }) => {
	// axe needs a page from an explicit context.
	page = await (await browser.newContext()).newPage();
	await registerViaUi(page, email, 'Pat Practice');
});
test.afterAll(() => page.context().close());

const question = (on = page) => on.locator('article.question').first();

/** Write-code questions need Python in the browser; these tests skip them. */
async function skipWriteCode() {
	while ((await question().getByText('Write code').count()) > 0) {
		const shown = await question().getAttribute('aria-labelledby');
		await page.getByRole('button', { name: 'Skip' }).click();
		await expect(question()).not.toHaveAttribute('aria-labelledby', shown!);
	}
}

/** Answers whatever question is shown, with the keyboard where it can: option 1, or some text. */
async function answerSomehow(on = page) {
	const q = question(on);
	await expect(q).toBeVisible();
	if (await q.locator('input[type="radio"], input[type="checkbox"]').count()) {
		await on.locator('h1').first().click();
		await on.keyboard.press('1');
		await expect(q.locator('input:checked')).toHaveCount(1);
	} else if (await q.locator('input[type="text"]').count()) {
		await q.locator('input[type="text"]').fill('42');
	} else {
		await q.locator('textarea').fill('42');
	}
}

test('a practice session: keyboard answers, feedback with an explanation, ask the tutor why', async () => {
	await page.getByRole('link', { name: 'Practice', exact: true }).click();
	await expect(page.getByRole('heading', { name: 'Practice', level: 1 })).toBeVisible();
	await expect(page.getByText('pick an option')).toBeVisible();
	await expectAccessible(page);

	await page.getByRole('radio', { name: /Python Entry-Level/ }).check();
	await page.getByRole('button', { name: 'Start practice' }).click();
	await expect(page).toHaveURL(/\/practice\/session\?exam=python-entry&mode=practice/);
	for (let i = 0; i < 2; i++) {
		await expect(question()).toBeVisible();
		await skipWriteCode();
		await answerSomehow();
		await page.locator('h1').click();
		await page.keyboard.press('Enter');
		const feedback = page.locator('section.feedback');
		await expect(feedback.getByRole('heading', { name: /Right|Not quite/ })).toBeVisible();
		await expect(feedback.locator('.markdown')).not.toBeEmpty();
		await expect(feedback.getByText(/Next review of this question/)).toBeVisible();
		if (i === 0) await expectAccessible(page);
		if (i === 0) {
			// Enter moves on (focus is on "Next question"). The next question must be the one shown
			// before it is answered: `answerSomehow` picks its way by the kind of question on screen.
			const answered = await question().getAttribute('aria-labelledby');
			await page.keyboard.press('Enter');
			await expect(page.locator('section.feedback')).toHaveCount(0);
			await expect(question()).not.toHaveAttribute('aria-labelledby', answered!);
		}
	}
	await expect(page.getByText('2 answered')).toBeVisible();
	await page.getByRole('button', { name: 'Ask the tutor why' }).click();
	await expect(page).toHaveURL(/\/tutor\/[0-9a-f-]{36}$/);
	await expect(page.getByRole('heading', { name: /^Why\?/ })).toBeVisible();
});

test('a timed mock exam: countdown, answers, submit, score and review', async () => {
	await page.goto('/practice');
	await page.getByRole('radio', { name: /Python Entry-Level/ }).check();
	await expect(page.getByText(/20 questions from “Python Entry-Level/)).toBeVisible();
	await page.getByRole('button', { name: 'Start mock exam' }).click();
	await expect(page).toHaveURL(/\/practice\/mock\/[0-9a-f-]{36}$/);
	const timer = page.getByRole('timer', { name: 'Time left' });
	await expect(timer).toHaveText(/(29|30):\d\d/);
	const first = await timer.textContent();
	await expect(timer).not.toHaveText(first!);
	await expectAccessible(page);
	for (let i = 0; i < 3; i++) {
		await expect(
			question().getByRole('heading', { name: `Question ${i + 1} of 20` })
		).toBeVisible();
		await answerSomehow();
		await page.getByRole('button', { name: /^Next/ }).click();
	}
	await expect(page.getByText('3 of 20 answered')).toBeVisible();
	await expect(page.getByRole('status').getByText('Saved')).toBeVisible();
	page.once('dialog', (d) => d.accept());
	await page.getByRole('button', { name: 'Submit exam' }).click();
	await expect(page.getByRole('heading', { name: /Your score: \d+ \/ 20/ })).toBeVisible();
	await expect(page.getByTestId('mock-unanswered')).toContainText(
		'17 questions were left unanswered'
	);
	await expect(page.getByRole('heading', { name: 'Review' })).toBeVisible();
	await expect(page.locator('ol.review > li')).toHaveCount(20);
	await expect(page.locator('ol.review .explain .markdown').first()).not.toBeEmpty();
	await expectAccessible(page);
	await page.goto('/practice/stats');
	await expect(page.getByRole('heading', { name: 'Mock exam scores' })).toBeVisible();
	await expect(page.getByRole('img', { name: 'Mock exam scores over time' })).toBeVisible();
	await expect(page.getByTestId('streak')).toHaveText('1 day');
	await expectAccessible(page);
});

/** Submits what `answerSomehow` put in and returns the feedback's verdict. */
async function submitAndJudge() {
	await page.getByRole('button', { name: /Submit answer/ }).click();
	const verdict = page
		.locator('section.feedback')
		.getByRole('heading', { name: /Right|Not quite/ });
	await expect(verdict).toBeVisible();
	return (await verdict.textContent())!.includes('Right') ? 'right' : 'wrong';
}

test('a review of due questions, rated by the student with each rating’s next interval shown', async () => {
	test.setTimeout(180_000);
	// A wrong practice answer comes back a minute later (FSRS Again): practise until one is wrong.
	await page.goto('/practice/session?mode=practice');
	for (let i = 0; i < 20; i++) {
		await expect(question()).toBeVisible();
		await skipWriteCode();
		await answerSomehow();
		if ((await submitAndJudge()) === 'wrong') break;
		const answered = await question().getAttribute('aria-labelledby');
		await page.getByRole('button', { name: /Next question/ }).click();
		await expect(question()).not.toHaveAttribute('aria-labelledby', answered!);
	}
	await page.goto('/dashboard');
	await expect
		.poll(
			async () => {
				await page.reload();
				return Number(await page.getByTestId('dashboard-due').textContent());
			},
			{ timeout: 120_000, intervals: [10_000] }
		)
		.toBeGreaterThan(0);
	await page.getByRole('link', { name: 'Review now' }).click();
	await expect(page.getByRole('heading', { name: 'Review due questions' })).toBeVisible();
	await expect(page.getByText(/\d+ due for review/)).toBeVisible();
	await answerSomehow();
	await page.getByRole('button', { name: /Submit answer/ }).click();
	const feedback = page.locator('section.feedback');
	await expect(feedback).toBeVisible();
	await expect(page.getByText('1 answered')).toBeVisible();

	// Before picking, each rating shows when the question would come back; no "Next" yet.
	const ratings = feedback.getByRole('group', { name: /How well did you know it/ });
	for (const name of ['Again', 'Hard', 'Good', 'Easy'])
		await expect(
			ratings.getByRole('button', { name: new RegExp(`^${name} in \\d+ (minute|hour|day)`) })
		).toBeVisible();
	await expect(page.getByRole('button', { name: /Next question/ })).toHaveCount(0);
	// The suggested rating has the focus, so Enter picks it.
	await expect(ratings.locator('button:focus')).toHaveCount(1);
	await expectAccessible(page);
	await page.setViewportSize({ width: 1440, height: 900 });
	await feedback.scrollIntoViewIfNeeded();
	await feedback.screenshot({ path: 'docs/screenshots/review-ratings.png' });

	const good = ratings.getByRole('button', { name: /^Good/ });
	const interval = (await good.locator('.interval').textContent())!.trim();
	await good.click();
	await expect(feedback.getByTestId('next-review')).toHaveText(
		`Next review of this question: ${interval}.`
	);
	await expect(page.getByRole('button', { name: /Next question/ })).toBeFocused();
});

test('a mock exam with unanswered questions leaves stats and the review queue right', async ({
	browser
}) => {
	const context = await browser.newContext();
	const student = await context.newPage();
	await registerViaUi(student, uniqueEmail('mock-blank'), 'Una Unanswered');
	// The dashboard offers the diagnostic it mentions, and one press starts it.
	const offer = student.getByTestId('dashboard-diagnostic');
	await expect(offer).toHaveText(/^Take the diagnostic: /);
	const area = (await offer.textContent())!.replace('Take the diagnostic: ', '').trim();
	await offer.click();
	await expect(student.getByRole('heading', { name: `Diagnostic: ${area}` })).toBeVisible();
	await student.goto('/practice');
	await student.getByRole('radio', { name: /Python Entry-Level/ }).check();
	await student.getByRole('button', { name: 'Start mock exam' }).click();
	await expect(student).toHaveURL(/\/practice\/mock\/[0-9a-f-]{36}$/);
	for (let i = 0; i < 2; i++) {
		await expect(
			question(student).getByRole('heading', { name: `Question ${i + 1} of 20` })
		).toBeVisible();
		await answerSomehow(student);
		await student.getByRole('button', { name: /^Next/ }).click();
	}
	await expect(student.getByText('2 of 20 answered')).toBeVisible();
	await expect(student.getByRole('status').getByText('Saved')).toBeVisible();
	student.once('dialog', (d) => d.accept());
	await student.getByRole('button', { name: 'Submit exam' }).click();
	await expect(student.getByTestId('mock-unanswered')).toContainText(
		'18 questions were left unanswered'
	);
	const review = student.locator('ol.review > li');
	await expect(review).toHaveCount(20);
	await expect(
		review.filter({ has: student.getByRole('heading', { name: /: unanswered$/ }) })
	).toHaveCount(18);
	const right = await review
		.filter({ has: student.getByRole('heading', { name: /: right$/ }) })
		.count();

	// Stats count the two answers only; the review queue holds those two questions, not twenty.
	await student.goto('/practice/stats');
	await expect(student.getByTestId('stats-answered')).toHaveText('2');
	await expect(student.getByTestId('stats-accuracy')).toHaveText(
		`${Math.round((right / 2) * 100)}%`
	);
	await expect(student.getByTestId('stats-queue')).toHaveText('2');
	await student.setViewportSize({ width: 1440, height: 900 });
	await student.screenshot({
		path: 'docs/screenshots/practice-stats-blank-mock.png',
		fullPage: true
	});
	await expectAccessible(student);
	await context.close();
});

test('a diagnostic that sets a level', async () => {
	await page.goto('/practice');
	await page.getByRole('button', { name: 'Take diagnostic: Python fundamentals' }).click();
	await expect(
		page.getByRole('heading', { name: 'Diagnostic: Python fundamentals' })
	).toBeVisible();
	await expectAccessible(page);
	for (let i = 1; i <= 8; i++) {
		await expect(question().getByRole('heading', { name: `Question ${i} of 8` })).toBeVisible();
		await answerSomehow();
		await page.getByRole('button', { name: i === 8 ? /^Finish/ : /^Next/ }).click();
	}
	const level = page.getByTestId('level');
	await expect(level).toHaveText(/Beginner|Intermediate|Advanced/);
	const text = (await level.textContent())!.trim().toLowerCase();
	await expectAccessible(page);
	await page.goto('/dashboard');
	await expect(page.getByRole('list', { name: 'Your skill levels' })).toContainText(
		`Python fundamentals: ${text}`
	);
	await page.goto('/practice');
	await expect(
		page.getByRole('button', { name: 'Retake diagnostic: Python fundamentals' })
	).toBeVisible();
});
