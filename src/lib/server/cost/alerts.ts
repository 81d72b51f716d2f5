/**
 * Budget alerts for the operator: one per subject (the whole server or one student), UTC day and
 * threshold (warning, limit). The unique row in `budget_alerts` is the "once": whichever replica
 * inserts it sends the alert, by email (SMTP settings) and/or webhook, and records how that went.
 *
 * @example
 * await raiseAlert(db, config.alerts, { subject: 'global', threshold: 'limit', spentUsd: 20.1, limitUsd: 20 });
 */
import { desc, sql } from 'drizzle-orm';
import type { Config } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import { budgetAlerts, type BudgetAlert } from '#lib/server/db/schema.ts';
import { logger } from '#lib/server/log.ts';
import * as mail from '#lib/server/mail.ts';

export interface AlertInput {
	/** 'global' or a user id */
	subject: string;
	userId?: string | null;
	/** Who it is about, for the message (the student's email). */
	label?: string;
	threshold: 'warning' | 'limit';
	spentUsd: number;
	limitUsd: number;
	day: string;
}

type Delivery = { channel: string; ok: boolean; error?: string };

function describe(a: AlertInput) {
	const who = a.subject === 'global' ? 'The server' : `Student ${a.label ?? a.subject}`;
	const what =
		a.threshold === 'limit'
			? 'reached the daily AI budget; the tutor now answers from course material only until midnight UTC'
			: 'is close to the daily AI budget';
	const subject = `AI Coding Tutor: ${a.subject === 'global' ? 'daily' : 'student'} AI budget ${a.threshold === 'limit' ? 'reached' : 'nearly used'}`;
	const text = `${who} ${what}.\n\nSpent on ${a.day} (UTC): $${a.spentUsd.toFixed(4)} of $${a.limitUsd.toFixed(2)}.\n\nChange the budgets in the admin console under Budgets.`;
	return { subject, text };
}

async function sendWebhook(url: string, payload: Record<string, unknown>) {
	const response = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(payload),
		signal: AbortSignal.timeout(10_000)
	});
	if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
}

/** Delivers an alert on every configured channel; never throws. */
export async function deliver(config: Config['alerts'], alert: AlertInput): Promise<Delivery[]> {
	const { subject, text } = describe(alert);
	const results: Delivery[] = [];
	if (config.smtp && config.emails.length) {
		try {
			await mail.send(config.smtp, { to: config.emails, subject, text });
			results.push({ channel: 'email', ok: true });
		} catch (err) {
			results.push({ channel: 'email', ok: false, error: (err as Error).message.slice(0, 300) });
		}
	}
	if (config.webhookUrl) {
		try {
			await sendWebhook(config.webhookUrl, {
				event: 'budget_alert',
				subject: alert.subject,
				threshold: alert.threshold,
				day: alert.day,
				spentUsd: alert.spentUsd,
				limitUsd: alert.limitUsd,
				text: `${subject}\n${text}`
			});
			results.push({ channel: 'webhook', ok: true });
		} catch (err) {
			results.push({ channel: 'webhook', ok: false, error: (err as Error).message.slice(0, 300) });
		}
	}
	for (const r of results)
		if (!r.ok) logger().warn({ channel: r.channel, error: r.error }, 'budget alert not delivered');
	return results;
}

/**
 * Records the crossing and, if this call was the first to record it, delivers the alert.
 * Returns whether this call raised it.
 */
export async function raiseAlert(
	db: Db,
	config: Config['alerts'],
	alert: AlertInput
): Promise<boolean> {
	const inserted = await db
		.insert(budgetAlerts)
		.values({
			subject: alert.subject,
			userId: alert.userId ?? null,
			day: alert.day,
			threshold: alert.threshold,
			spentUsd: alert.spentUsd,
			limitUsd: alert.limitUsd
		})
		.onConflictDoNothing()
		.returning({ id: budgetAlerts.id });
	const row = inserted[0];
	if (!row) return false;
	logger().warn(
		{ subject: alert.subject, threshold: alert.threshold, spentUsd: alert.spentUsd },
		'AI budget threshold crossed'
	);
	const delivery = await deliver(config, alert);
	if (delivery.length)
		await db
			.update(budgetAlerts)
			.set({ delivery })
			.where(sql`${budgetAlerts.id} = ${row.id}`);
	return true;
}

/** The newest alerts, for the console. */
export async function listAlerts(db: Db, limit = 20): Promise<BudgetAlert[]> {
	return db.select().from(budgetAlerts).orderBy(desc(budgetAlerts.createdAt)).limit(limit);
}
