import type { ModuleMetrics } from "../../../src/platform/metrics/module-metrics.ts";
import type { NotificationMetrics } from "../ports.ts";

/** notification's metrics, as `shop_notification_*` (docs/operations.md). */
export function notificationMetrics(metrics: ModuleMetrics): NotificationMetrics {
  return {
    sent: metrics.counter("emails_sent_total", "E-mails the mail sender accepted (SMTP, or stored and logged without SMTP_URL)."),
    attemptsFailed: metrics.counter("email_attempts_failed_total", "Attempts to send an e-mail that failed and will be retried."),
    failed: metrics.counter("emails_failed_total", "E-mails given up on after their last attempt: status failed, until `shop mail retry`."),
  };
}
