/**
 * One turn of the tutor: the prompt, the cost decision and the answer's stream (a provider call,
 * the offline tutor, a cached or a followed answer), with the solution guard on exercises.
 *
 * @example
 * const turns = new Turns({ db, config, cost, retrieve });
 * const started = await turns.start({ userId, question, fresh: true, history, ... }, controller, reserved);
 * for (let step = await started.first; !step.done; step = await started.iterator.next()) ...
 */
import { eq } from 'drizzle-orm';
import type { Config } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import { conversations } from '#lib/server/db/schema.ts';
import { ProviderError, type ChatMessage, type StreamEvent } from '#lib/server/ai/types.ts';
import type { SkillLevel } from '#lib/server/db/schema-practice.ts';
import { logger } from '#lib/server/log.ts';
import {
	BudgetReached,
	type CostControl,
	type Reserved,
	type TurnPlan
} from '#lib/server/cost/control.ts';
import { resolveContext } from '#lib/server/learn/tutor-context.ts';
import * as convos from './conversations';
import { buildPrompt, questionNotes, type TutorContext } from './prompt';
import type { Passage, Retrieve } from './retrieval';
import { guardSolution } from './solution-guard';

const CONTINUE_INSTRUCTION =
	'(Continue your previous answer exactly where it stopped. Do not repeat what you already wrote.)';

export interface TurnInput {
	userId: string;
	/** The student's words (without the per-question notes). */
	question: string;
	/** A new question, rather than a continue or a regenerate. */
	fresh: boolean;
	/** The conversation, ending with the question. */
	history: ChatMessage[];
	context: TutorContext | null;
	passages: Passage[];
	/** An unsolved exercise's reference solution: code reproducing it is withheld. */
	solution: string | null;
	lessonId?: string | null;
	starterCode?: string | null;
}

/** An answer under way: its plan and its stream, whose first event is already being awaited. */
export interface Started {
	plan: TurnPlan;
	iterator: AsyncIterator<StreamEvent>;
	first: Promise<IteratorResult<StreamEvent>>;
}

export class Turns {
	constructor(
		private readonly deps: { db: () => Db; config: Config; cost: CostControl; retrieve: Retrieve }
	) {}

	/** Builds the prompt, makes the cost decision and starts the stream. */
	async start(
		input: TurnInput,
		controller: AbortController,
		reserved: Reserved | 'later'
	): Promise<Started> {
		const { config, cost } = this.deps;
		const budget = config.llm.historyTokenBudget;
		const prompt = buildPrompt({ ...input, budget });
		const notes = questionNotes(input.context, input.passages);
		const history = input.history.slice(0, -1);
		const plan = await cost.plan({ ...input, history, prompt, notes }, reserved).catch((err) => {
			if (!(err instanceof BudgetReached)) throw err;
			throw new ProviderError('rate_limited', 'budget reached', { cause: err });
		});
		// `continuing`: the text a followed answer showed before it failed, continued from here.
		const live = (continuing: string) => {
			const request = continuing
				? buildPrompt({
						...input,
						budget,
						history: [
							...input.history,
							{ role: 'assistant', content: continuing },
							{ role: 'user', content: CONTINUE_INSTRUCTION }
						]
					})
				: prompt;
			const raw = plan.provider.stream({
				...request,
				maxTokens: config.llm.maxOutputTokens,
				signal: controller.signal,
				promptCache: config.cost.promptCache,
				...(plan.model !== plan.provider.model ? { model: plan.model } : {})
			});
			return input.solution
				? guardSolution(raw, input.solution, () =>
						logger().info('tutor answer withheld code reproducing an exercise solution')
					)
				: raw;
		};
		const iterator = cost.stream(plan, live, controller.signal)[Symbol.asyncIterator]();
		const first = iterator.next();
		first.catch(() => {}); // handled where the answer is run
		return { plan, iterator, first };
	}

	/** The course context of a stored conversation, with the student's level (null on failure). */
	resolve(userId: string, stored: unknown, level?: SkillLevel | null) {
		return resolveContext(this.deps.db(), userId, stored ?? {}, level).catch(
			(): Awaited<ReturnType<typeof resolveContext>> => ({ context: null, solution: null })
		);
	}

	/** Starts a continue (from `prefix`) or a regenerate of the answer `messageId`. */
	async restart(
		conversationId: string,
		messageId: string,
		prefix: string,
		mode: 'answer' | 'continue',
		controller: AbortController
	): Promise<Started> {
		const db = this.deps.db();
		const [conversation] = await db
			.select({ context: conversations.context, userId: conversations.userId })
			.from(conversations)
			.where(eq(conversations.id, conversationId));
		if (!conversation) throw new Error('conversation gone');
		const budget = this.deps.config.llm.historyTokenBudget;
		const history: ChatMessage[] = (await convos.history(db, conversationId, budget, messageId))
			.filter((m) => m.content)
			.map((m) => ({ role: m.role, content: m.content }));
		if (mode === 'continue' && prefix)
			history.push(
				{ role: 'assistant', content: prefix },
				{ role: 'user', content: CONTINUE_INSTRUCTION }
			);
		const question = history.findLast((m) => m.role === 'user')?.content ?? '';
		const [passages, resolved, reserved] = await Promise.all([
			this.deps.retrieve(question, 3).catch(() => []),
			this.resolve(conversation.userId, conversation.context),
			this.deps.cost.reserve(conversation.userId).catch((err: unknown) => {
				logger().warn({ err }, 'reserving against the budgets failed; answering unreserved');
				return null;
			})
		]);
		const input = { userId: conversation.userId, question, fresh: false, history, passages };
		return this.start({ ...input, ...resolved }, controller, reserved).catch(async (err) => {
			await this.deps.cost.unreserve(reserved).catch(() => {});
			throw err;
		});
	}
}

/** Runs a discarded stream to its end, so whatever it holds (a shared answer's followers) is let go. */
export async function drain(started: Started) {
	try {
		for (let step = await started.first; !step.done; step = await started.iterator.next());
	} catch {
		// cancelled: expected
	}
}
