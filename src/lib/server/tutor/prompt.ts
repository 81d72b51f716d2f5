/**
 * What the tutor is told: a Socratic system prompt (stable, so providers can cache it), then what
 * the student is looking at and the course passages found for the question, then the history
 * trimmed to a token budget.
 *
 * @example
 * const request = buildPrompt({ history, context, passages, budget: 6000 });
 */
import type { ChatMessage } from '#lib/server/ai/types.ts';
import type { Passage } from './retrieval';

export const SYSTEM_PROMPT = `You are the AI Coding Tutor, a patient programming tutor for students learning Python.

How you teach:
- Guide, do not hand over. Start with a question or a hint that moves the student one step forward. Explain concepts with small examples that are not the exercise itself.
- Never write the full solution to an exercise or graded task the student has not solved yet, even if asked directly or told it is for checking. Offer the next hint instead, and say kindly why.
- When the student shares code or an error, point to where to look and ask what they expect to happen there. Explain error messages in plain words.
- Once the student has solved something, you may show a cleaner version and discuss trade-offs.
- Match the student's level: simpler words and smaller steps for beginners, more depth for advanced students.
- Be brief: a few sentences or a short list, then a question back to the student. Use Markdown; put code in fenced blocks with a language.
- If you are not sure, say so. Stay on programming and learning topics.`;

export interface TutorContext {
	level?: 'beginner' | 'intermediate' | 'advanced';
	lesson?: { title: string; summary?: string };
	exercise?: { title: string; prompt: string; solved?: boolean };
	code?: string;
	lastError?: string;
	/** A practice question the student answered and asks about ("ask the tutor why"). */
	practice?: {
		question: string;
		options?: string[];
		given: string;
		expected: string;
		wasRight: boolean;
		explanation: string;
	};
}

/** About four characters a token for English and code; good enough to stay under a budget. */
export const CHARS_PER_TOKEN = 4;
/** What a message costs in the history besides its text (role and framing), in tokens. */
export const MESSAGE_TOKENS = 4;

export function estimateTokens(text: string): number {
	return Math.ceil(text.length / CHARS_PER_TOKEN);
}

function clip(text: string, max: number) {
	return text.length > max ? text.slice(0, max) + '\n…(truncated)' : text;
}

/**
 * The conversation's place in the course: the same for every question in it, so it sits in the
 * system prompt right after the instructions and is cached with them.
 */
export function contextBlock(context: TutorContext | null | undefined): string {
	const parts: string[] = [];
	if (context?.level) parts.push(`Student level: ${context.level}.`);
	if (context?.lesson)
		parts.push(
			`Current lesson: ${context.lesson.title}${context.lesson.summary ? `\n${clip(context.lesson.summary, 1500)}` : ''}`
		);
	if (context?.exercise)
		parts.push(
			`Current exercise (${context.exercise.solved ? 'solved by the student' : 'NOT solved yet: do not give its solution'}): ${context.exercise.title}\n${clip(context.exercise.prompt, 2000)}`
		);
	if (context?.practice) {
		const p = context.practice;
		parts.push(
			`The student answered a practice question (${p.wasRight ? 'correctly' : 'incorrectly'}) and asks why. Explain the reasoning; the answer is already revealed, so you may discuss it.\n` +
				`Question:\n${clip(p.question, 2500)}\n` +
				(p.options?.length
					? `Options:\n${p.options.map((o, i) => `${i + 1}. ${o}`).join('\n')}\n`
					: '') +
				`Student's answer: ${clip(p.given, 1500)}\nRight answer: ${clip(p.expected, 1500)}\nExplanation on file: ${clip(p.explanation, 1500)}`
		);
	}
	return parts.join('\n\n');
}

/**
 * What changes from one question to the next: the student's code, their last error and the course
 * passages found for this question. It travels with the question itself, after every cacheable
 * part of the prompt, so it never breaks the provider's prompt cache.
 */
export function questionNotes(
	context: TutorContext | null | undefined,
	passages: Passage[]
): string {
	const parts: string[] = [];
	if (context?.code)
		parts.push(`The student's current code:\n\`\`\`python\n${clip(context.code, 4000)}\n\`\`\``);
	if (context?.lastError)
		parts.push(`The last error they saw:\n\`\`\`\n${clip(context.lastError, 1500)}\n\`\`\``);
	if (passages.length)
		parts.push(
			'Relevant course material (use it, and point the student to it):\n' +
				passages.map((p) => `## ${p.title}\n${clip(p.body, 1200)}`).join('\n\n')
		);
	return parts.join('\n\n');
}

export const NOTES_OPEN = '<tutor-notes>';
export const NOTES_CLOSE = '</tutor-notes>';

/** The question as sent: the notes (when there are any) in a marked block, then the question. */
export function withNotes(question: string, notes: string): string {
	return notes ? `${NOTES_OPEN}\n${notes}\n${NOTES_CLOSE}\n\n${question}` : question;
}

/** The student's own words of a question sent with `withNotes`. */
export function withoutNotes(content: string): string {
	if (!content.startsWith(NOTES_OPEN)) return content;
	const end = content.indexOf(NOTES_CLOSE);
	return end < 0 ? content : content.slice(end + NOTES_CLOSE.length).replace(/^\n+/, '');
}

/**
 * Keeps the newest messages that fit the budget. The last message is always kept (clipped if it
 * alone is too long) and the history never starts with an assistant turn.
 */
export function trimHistory(history: ChatMessage[], budget: number): ChatMessage[] {
	const kept: ChatMessage[] = [];
	let used = 0;
	for (let i = history.length - 1; i >= 0; i--) {
		const message = history[i]!;
		const cost = estimateTokens(message.content) + MESSAGE_TOKENS;
		if (kept.length === 0) {
			const maxChars = budget * CHARS_PER_TOKEN;
			kept.unshift(
				message.content.length > maxChars
					? { ...message, content: message.content.slice(-maxChars) }
					: message
			);
			used += Math.min(cost, budget);
			continue;
		}
		if (used + cost > budget) break;
		kept.unshift(message);
		used += cost;
	}
	while (kept.length > 1 && kept[0]!.role === 'assistant') kept.shift();
	return kept;
}

/**
 * The request for one answer. `systemBlocks` are the instructions and the conversation's context
 * (stable, cacheable); the per-question notes go into the last user message.
 */
export function buildPrompt(input: {
	history: ChatMessage[];
	context?: TutorContext | null;
	passages?: Passage[];
	budget: number;
}): { system: string; systemBlocks: string[]; messages: ChatMessage[] } {
	const extra = contextBlock(input.context);
	const systemBlocks = extra ? [SYSTEM_PROMPT, `# Context\n${extra}`] : [SYSTEM_PROMPT];
	const notes = questionNotes(input.context, input.passages ?? []);
	const messages = trimHistory(input.history, input.budget);
	const last = messages.at(-1);
	if (notes && last?.role === 'user')
		messages[messages.length - 1] = { ...last, content: withNotes(last.content, notes) };
	return { system: systemBlocks.join('\n\n'), systemBlocks, messages };
}
