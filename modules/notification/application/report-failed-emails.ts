import type { NotificationDeps } from "../ports.ts";

/**
 * What `shop check` says about e-mails given up on: how many, and the oldest (when recorded, for whom, why it
 * failed). Information, not a violation: the shop did what it promises (retried, then gave up) and the e-mails wait
 * for an operator — `shop mail retry` once the mail server is back.
 */
export async function reportFailedEmails(deps: Pick<NotificationDeps, "db" | "notifications">): Promise<string[]> {
  const { count, oldest } = await deps.notifications.failedSummary(deps.db);
  if (count === 0 || !oldest) return ["0 failed e-mail(s)"];
  const why = oldest.lastError ? `: ${oldest.lastError.split("\n")[0]}` : "";
  return [
    `${count} failed e-mail(s) (shop mail retry); oldest ${oldest.id} recorded ${oldest.createdAt.toISOString()}, ` +
      `${oldest.template} for order ${oldest.orderId} to ${oldest.to}, after ${oldest.attempts} attempt(s)${why}`,
  ];
}
