/**
 * Cost per tutor turn for a class, with and without the cost measures, through the built server.
 *
 * The same seeded class workload is replayed twice on a fresh database each time: once with the
 * response cache, cheaper-model routing and prompt caching off (the uncached baseline), once with
 * the defaults (all on). The mock provider reports token counts like Anthropic (and simulates its
 * prompt cache); it is priced like Claude Sonnet and its cheaper model like Claude Haiku. Cost per
 * turn is read back from the server's own usage log (/api/admin/cache/stats).
 *
 * The workload: STUDENTS students each work through LESSONS_EACH of the first LESSONS lessons of
 * the starter course (so lessons overlap between students). In each lesson a student asks, from
 * the lesson page:
 *   1. a first question about the lesson: 80 % pick one of four common phrasings (two differ only
 *      in case and punctuation), 20 % ask in their own words;
 *   2. a short follow-up ("Can you give me another example?" ...);
 *   3. half the time a debugging question with their own code (one of five kinds, see DEBUGGING:
 *      a NameError, a SyntaxError, an IndentationError, a TypeError, or wrong output with no
 *      error), otherwise another short follow-up.
 * Then the class practises the week's set of PRACTICE single-choice exam questions (the same for
 * everyone); a student picks the right option or one of the two most tempting wrong ones, and asks
 * the tutor why about half of their wrong answers ("Ask the tutor why", then one of three common
 * wordings). Sessions run 8 at a time. Budgets are off so no answer falls back to the offline
 * tutor. Each phase is reported on its own as well as together.
 *
 *   npm run build && node bench/cost.ts [students=40]
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { root, serverNodeFlags, start } from './lib.ts';

const STUDENTS = Number(process.argv[2] ?? 40);
const LESSONS = 6;
const LESSONS_EACH = 3;
const CONCURRENCY = 8;
const PRACTICE = 8;
const ADMIN = 'bench-admin@example.com';
const ADMIN_SETUP_CODE = 'bench-admin-setup-code-0123456789';

/** A small seeded generator, so both runs replay exactly the same class. */
function rng(seed: number) {
	let s = seed >>> 0;
	return () => {
		s = (s * 1664525 + 1013904223) >>> 0;
		return s / 2 ** 32;
	};
}
const pick = <T>(r: () => number, list: T[]) => list[Math.floor(r() * list.length)]!;

// The first lessons of the starter course, in order: module and lesson slugs from the pack folders.
const starter = path.join(root, 'content/starter');
const lessons = readdirSync(starter)
	.filter((m) => /^\d+-/.test(m))
	.sort()
	.flatMap((m) =>
		readdirSync(path.join(starter, m))
			.filter((l) => /^\d+-/.test(l))
			.sort()
			.map((l) => ({
				module: m.replace(/^\d+-/, ''),
				lesson: l.replace(/^\d+-/, ''),
				topic: l.replace(/^\d+-/, '').replace(/-/g, ' ')
			}))
	)
	.slice(0, LESSONS);

const FOLLOW_UPS = [
	'Can you give me another example?',
	'What does that mean?',
	'Could you say that more simply?',
	'What should I try next?'
];

interface Turn {
	text: string;
	code?: string;
	lastError?: string;
}

/**
 * Debugging questions, each with the student's own code (it differs from student to student) and
 * what they saw: three errors whose message names the problem, a type error and wrong output
 * with no error at all.
 */
const DEBUGGING: ((s: number) => Turn)[] = [
	(s) => ({
		text: 'Why do I get this NameError when I run my code?',
		code: `total = 0\nfor n in range(${(s % 5) + 2}):\n    totl = total + n\nprint(totl, count)\n`,
		lastError: "NameError: name 'count' is not defined"
	}),
	(s) => ({
		text: 'What is wrong with my for loop?',
		code: `for n in range(${(s % 4) + 3})\n    print(n * n)\n`,
		lastError: `  File "main.py", line 1\n    for n in range(${(s % 4) + 3})\n                     ^\nSyntaxError: expected ':'`
	}),
	(s) => ({
		text: 'Why does Python complain about the indentation here?',
		code: `def times_${s % 7}(x):\nreturn x * ${(s % 7) + 2}\n`,
		lastError:
			'  File "main.py", line 2\n    return x\n    ^\nIndentationError: expected an indented block after function definition on line 1'
	}),
	(s) => ({
		text: "Why can't I add a number to my age?",
		code: `age = input("Age: ")\nprint("In ${(s % 9) + 1} years you will be " + age + ${(s % 9) + 1})\n`,
		lastError:
			'Traceback (most recent call last):\n  File "main.py", line 2, in <module>\nTypeError: can only concatenate str (not "int") to str'
	}),
	(s) => ({
		text: 'My average prints the wrong number, why?',
		code: `def average(nums):\n    total = 0\n    for n in nums:\n        total = n\n    return total / len(nums)\n\nprint(average([2, 4, ${(s % 5) * 2 + 6}]))\n`
	})
];
interface Session {
	student: number;
	lesson: (typeof lessons)[number];
	turns: Turn[];
}

function workload(): Session[] {
	const r = rng(20261122);
	const sessions: Session[] = [];
	for (let s = 0; s < STUDENTS; s++) {
		const order = [...lessons].sort(() => r() - 0.5).slice(0, LESSONS_EACH);
		for (const lesson of order) {
			const t = lesson.topic;
			const first =
				r() < 0.8
					? pick(r, [
							`What is ${t} about?`,
							`what is ${t} about`,
							`Can you explain ${t} simply?`,
							`Why do we need ${t}?`
						])
					: `How would ${t} help me with my own project number ${s}?`;
			const third: Turn = r() < 0.5 ? pick(r, DEBUGGING)(s) : { text: pick(r, FOLLOW_UPS) };
			sessions.push({
				student: s,
				lesson,
				turns: [{ text: first }, { text: pick(r, FOLLOW_UPS) }, third]
			});
		}
	}
	// Students work at the same time: interleave their sessions.
	return sessions.sort(
		(a, b) => a.lesson.lesson.localeCompare(b.lesson.lesson) || a.student - b.student
	);
}

interface Stats {
	turns: number;
	dollarsSpent: number;
	hits: number;
	eligibleTurns: number;
	dollarsSaved: number;
}
interface RunResult {
	lessons: Stats;
	practice: Stats;
	total: Stats;
	seconds: number;
}

const minus = (a: Stats, b: Stats): Stats => ({
	turns: a.turns - b.turns,
	dollarsSpent: a.dollarsSpent - b.dollarsSpent,
	hits: a.hits - b.hits,
	eligibleTurns: a.eligibleTurns - b.eligibleTurns,
	dollarsSaved: a.dollarsSaved - b.dollarsSaved
});

async function run(label: string, measures: boolean): Promise<RunResult> {
	const port = 4900 + Math.floor(Math.random() * 90);
	const dataDir = mkdtempSync(path.join(tmpdir(), `tutor-cost-${label}-`));
	const app = await start(
		[...serverNodeFlags, 'build/app.js'],
		{
			PORT: String(port),
			DATA_DIR: dataDir,
			LLM_PROVIDER: 'mock',
			MOCK_TOKEN_COUNT: '250',
			MOCK_TOKEN_DELAY_MS: '0',
			LOG_LEVEL: 'warn',
			ADMIN_EMAIL: ADMIN,
			ADMIN_SETUP_CODE,
			RATE_LIMIT_ENABLED: 'false',
			REGISTER_RATE_LIMIT: '10000',
			BUDGET_USER_DAILY_USD: '0',
			BUDGET_GLOBAL_DAILY_USD: '0',
			CACHE_ENABLED: String(measures),
			LLM_ROUTING: String(measures),
			LLM_PROMPT_CACHE: String(measures)
		},
		(p) => `http://127.0.0.1:${p}/health`
	);
	const base = `http://127.0.0.1:${port}`;
	const form = async (url: string, cookie: string, body: Record<string, string>) =>
		fetch(`${base}${url}`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: base,
				cookie,
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: new URLSearchParams(body)
		});
	const register = async (email: string) => {
		const res = await form('/register', '', {
			email,
			displayName: email.split('@')[0]!,
			password: 'bench password 1'
		});
		return res.headers
			.getSetCookie()
			.map((c) => c.split(';')[0])
			.join('; ');
	};
	try {
		const admin = await register(ADMIN);
		const claimed = await form('/admin-setup', admin, { code: ADMIN_SETUP_CODE });
		if (claimed.headers.get('location') !== '/admin') throw new Error('admin setup failed');
		const cookies: string[] = [];
		for (let s = 0; s < STUDENTS; s++) cookies.push(await register(`student${s}@example.com`));

		const ask = async (cookie: string, session: Session, turn: Turn) => {
			const res = await form(
				`/learn/${session.lesson.module}/${session.lesson.lesson}?/ask`,
				cookie,
				{
					...(turn.code ? { code: turn.code } : {}),
					...(turn.lastError ? { lastError: turn.lastError } : {})
				}
			);
			const location = res.headers.get('location');
			if (res.status !== 303 || !location) throw new Error(`ask failed: HTTP ${res.status}`);
			return location.split('/').pop()!;
		};
		const answer = (cookie: string, conversationId: string, text: string) =>
			new Promise<void>((resolve, reject) => {
				const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/v1`, {
					headers: { origin: base, cookie },
					perMessageDeflate: false
				});
				const timer = setTimeout(() => reject(new Error('no answer in 30 s')), 30_000);
				ws.on('message', (data) => {
					const m = JSON.parse(String(data));
					if (m.type === 'snapshot')
						ws.send(
							JSON.stringify({
								v: 1,
								type: 'send',
								conversationId,
								clientId: crypto.randomUUID(),
								text
							})
						);
					else if (m.type === 'error') reject(new Error(m.message));
					else if (m.type === 'event' && ['done', 'error', 'stopped'].includes(m.event.type)) {
						clearTimeout(timer);
						ws.close();
						resolve();
					}
				});
				ws.once('open', () => ws.send(JSON.stringify({ v: 1, type: 'subscribe', conversationId })));
				ws.once('error', reject);
			});

		const stats = async (): Promise<Stats> => {
			// The usage row is written just after the answer ends.
			await new Promise((r) => setTimeout(r, 1000));
			const res = await fetch(`${base}/api/admin/cache/stats?days=1`, {
				headers: { cookie: admin }
			});
			if (!res.ok) throw new Error(`stats: HTTP ${res.status}`);
			return (await res.json()) as Stats;
		};
		const inParallel = async <T>(items: T[], work: (item: T) => Promise<void>) => {
			const queue = [...items];
			await Promise.all(
				Array.from({ length: CONCURRENCY }, async () => {
					for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
				})
			);
		};
		const started = performance.now();

		await inParallel(workload(), async (session) => {
			const cookie = cookies[session.student]!;
			for (const turn of session.turns) {
				const conversationId = await ask(cookie, session, turn);
				await answer(cookie, conversationId, turn.text);
			}
		});
		const lessons = await stats();

		// The week's practice set: PRACTICE single-choice questions of the bank, the same in both runs
		// (the bank offers questions in random order, so collect them all and sort by prompt).
		const bank: { id: string; kind: string; options: string[]; promptHtml: string }[] = [];
		for (;;) {
			const exclude = bank.map((q) => q.id).join(',');
			const res = await fetch(`${base}/api/me/practice/next?mode=practice&exclude=${exclude}`, {
				headers: { cookie: cookies[0]! }
			});
			const { question } = (await res.json()) as { question: (typeof bank)[number] | null };
			if (!question || bank.length >= 400) break;
			bank.push(question);
		}
		const set = bank
			.filter((q) => q.kind === 'single' && q.options.length >= 3)
			.sort((a, b) => a.promptHtml.localeCompare(b.promptHtml))
			.slice(0, PRACTICE);
		const r = rng(7);
		const attempts = cookies.flatMap((cookie) =>
			set.map((q) => ({ cookie, q, choice: Math.floor(r() * 3), why: r() < 0.5, wording: r() }))
		);
		await inParallel(attempts, async ({ cookie, q, choice, why, wording }) => {
			const res = await fetch(`${base}/api/me/practice/answers`, {
				method: 'POST',
				headers: { origin: base, cookie, 'content-type': 'application/json' },
				body: JSON.stringify({
					questionId: q.id,
					given: { choice },
					timeMs: 20_000,
					mode: 'practice'
				})
			});
			const feedback = (await res.json()) as { answerId: string; correct: boolean };
			if (feedback.correct || !why) return;
			const asked = await form('/practice/session?/ask', cookie, { answerId: feedback.answerId });
			const conversationId = asked.headers.get('location')!.split('/').pop()!;
			const text =
				wording < 0.5
					? 'Why is my answer wrong?'
					: wording < 0.8
						? 'why is my answer wrong'
						: 'Can you explain the right answer?';
			await answer(cookie, conversationId, text);
		});
		const total = await stats();
		const seconds = (performance.now() - started) / 1000;
		return { lessons, practice: minus(total, lessons), total, seconds };
	} finally {
		app.child.kill('SIGTERM');
	}
}

const baseline = await run('baseline', false);
const measured = await run('measures', true);
const perTurn = (x: Stats) => x.dollarsSpent / x.turns;
const usd = (x: number) => `$${x.toFixed(5)}`;
const row = (label: string, key: 'lessons' | 'practice' | 'total') => {
	const b = baseline[key];
	const m = measured[key];
	const ratio = perTurn(m) / perTurn(b);
	return `| ${label} | ${m.turns} | ${usd(perTurn(b))} | ${usd(perTurn(m))} | ${m.hits} of ${m.eligibleTurns} | ${usd(m.dollarsSaved)} | **${ratio.toFixed(3)}x** |`;
};
const ratio = perTurn(measured.total) / perTurn(baseline.total);
const lines = [
	`Class workload: ${STUDENTS} students; ${baseline.lessons.turns} lesson turns and ${baseline.practice.turns} practice "why" turns (mock provider priced like Claude Sonnet, cheaper model like Claude Haiku); ${baseline.seconds.toFixed(0)} s and ${measured.seconds.toFixed(0)} s`,
	'',
	'| turns | count | cost per turn, no measures | cost per turn, with measures | cache hits of eligible | saved by the cache | ratio |',
	'|---|---|---|---|---|---|---|',
	row('lesson questions', 'lessons'),
	row('practice "why" questions', 'practice'),
	row('all', 'total'),
	'',
	`Cost per tutor turn: ${ratio.toFixed(3)}x the uncached cost (target <= 0.3x): ${ratio <= 0.3 ? 'met' : 'NOT met'}`
];
console.log(lines.join('\n'));
