import { Elysia, t, type Static } from "elysia";
import { authPlugin } from "../../src/platform/http/auth.ts";
import type { Authenticator } from "../../src/platform/http/authenticator.ts";
import { NextCursor, pageQuery } from "../../src/platform/http/page-query.ts";
import { answer, problems } from "../../src/platform/http/problem-responses.ts";
import { requestContext } from "../../src/platform/http/request-context.ts";
import { listNotifications, NOTIFICATION_PAGE_SIZE } from "./application/list-notifications.ts";
import type { Notification } from "./domain/notification.ts";
import type { NotificationDeps } from "./ports.ts";

export interface NotificationRoutesDeps extends Pick<NotificationDeps, "db" | "notifications"> {
  authenticator: Authenticator;
}

/** One e-mail as the admin API shows it (bodies left out: they are in the customer's mailbox or the log). */
const NotificationViewSchema = t.Object({
  id: t.String({ format: "uuid" }),
  orderId: t.String({ format: "uuid" }),
  template: t.Union([t.Literal("order-confirmed"), t.Literal("order-rejected"), t.Literal("order-cancelled"), t.Literal("order-shipped")]),
  to: t.String(),
  subject: t.String(),
  status: t.Union([t.Literal("pending"), t.Literal("sent"), t.Literal("failed")]),
  attempts: t.Integer({ minimum: 0 }),
  lastError: t.Union([t.String(), t.Null()]),
  createdAt: t.String({ format: "date-time" }),
  sentAt: t.Union([t.String({ format: "date-time" }), t.Null()]),
});

const NotificationPageSchema = t.Object({
  items: t.Array(NotificationViewSchema),
  nextCursor: NextCursor,
});

/** A page of GET /notifications as clients receive it. */
export type NotificationPageBody = Static<typeof NotificationPageSchema>;

/** The notification module's HTTP API: the admin's view of the e-mails sent, pending or failed. */
export function notificationRoutes(deps: NotificationRoutesDeps) {
  return (
    new Elysia({ name: "notification-routes" })
      .use(requestContext())
      .use(authPlugin(deps.authenticator))
      .get(
        "/notifications",
        async ({ query }) => {
          const page = await listNotifications(deps, query);
          return { items: page.items.map(notificationView), nextCursor: page.nextCursor };
        },
        {
          auth: "admin",
          query: t.Object({
            orderId: t.Optional(t.String({ format: "uuid", description: "only the e-mails of this order" })),
            ...pageQuery({ defaultLimit: NOTIFICATION_PAGE_SIZE }),
          }),
          response: { 200: answer(NotificationPageSchema), ...problems(401, 403, 422, 500, 503) },
          detail: { tags: ["notifications"], summary: "E-mails sent, pending or failed (admin), newest first" },
        },
      )
  );
}

function notificationView(notification: Notification): Static<typeof NotificationViewSchema> {
  return {
    id: notification.id,
    orderId: notification.orderId,
    template: notification.template,
    to: notification.to,
    subject: notification.subject,
    status: notification.status,
    attempts: notification.attempts,
    lastError: notification.lastError,
    createdAt: notification.createdAt.toISOString(),
    sentAt: notification.sentAt?.toISOString() ?? null,
  };
}
