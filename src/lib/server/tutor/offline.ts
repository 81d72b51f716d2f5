/**
 * The `offline` tutor: no AI model, no key. It answers from the course material found by search,
 * says plainly that it is the offline tutor, and still asks the student a question back.
 *
 * @example
 * const provider = createOfflineProvider((q) => retrieval.search(db, q, 3));
 */
import type { Provider, StreamEvent } from '#lib/server/ai/types.ts';
import { ProviderError } from '#lib/server/ai/types.ts';
import { withoutNotes } from './prompt';
import type { Passage } from './retrieval';

export const OFFLINE_LABEL =
	'**Offline tutor**: no AI model is configured on this server, so this answer is built from the course material only.';
/** The label when the offline tutor stands in for the AI tutor (a budget was reached). */
export const FALLBACK_LABEL =
	'**Offline tutor**: this answer is built from the course material only.';

function excerpt(body: string, max = 600) {
	if (body.length <= max) return body;
	const cut = body.slice(0, max);
	return cut.slice(0, Math.max(cut.lastIndexOf('\n'), cut.lastIndexOf('. ') + 1, 300)) + ' …';
}

export function offlineAnswer(
	question: string,
	passages: Passage[],
	label = OFFLINE_LABEL
): string {
	if (!passages.length)
		return `${label}\n\nI could not find anything about that in the course material yet. Try asking with the words your lesson uses (for example *loop*, *list*, *function*), or look at the lesson text next to your code.\n\nWhile you look: what do you expect your code to do, step by step, and where does it first do something different?`;
	const [best, ...rest] = passages;
	const more = rest.length
		? `\n\nAlso related: ${rest.map((p) => `*${p.title}*`).join(', ')}.`
		: '';
	return `${label}\n\nThe course covers this in **${best!.title}**:\n\n${excerpt(best!.body)
		.split('\n')
		.map((line) => `> ${line}`)
		.join(
			'\n'
		)}${more}\n\nRead that part again with your question in mind: which sentence answers it, and how would you try it in a small example?`;
}

export function createOfflineProvider(
	search: (question: string) => Promise<Passage[]>,
	options: { chunkDelayMs?: number; label?: string } = {}
): Provider {
	const delay = options.chunkDelayMs ?? 15;
	return {
		name: 'offline',
		model: 'course-search',
		async *stream(request): AsyncIterable<StreamEvent> {
			const question = withoutNotes(
				[...request.messages].reverse().find((m) => m.role === 'user')?.content ?? ''
			);
			const answer = offlineAnswer(question, await search(question), options.label);
			// Stream by words so the offline tutor feels like the others and can be stopped.
			const pieces = answer.match(/\S+\s*/g) ?? [answer];
			for (const piece of pieces) {
				if (request.signal.aborted) throw new ProviderError('aborted', 'stopped');
				yield { type: 'text', text: piece };
				if (delay) await new Promise((r) => setTimeout(r, delay));
			}
			yield {
				type: 'done',
				usage: { inputTokens: 0, outputTokens: 0 },
				stopReason: 'end_turn'
			};
		}
	};
}
