import { Elysia, t } from "elysia";
import type { Executor } from "../../src/platform/db.ts";
import { authPlugin } from "../../src/platform/http/auth.ts";
import { pageQuery } from "../../src/platform/http/page-query.ts";
import { ProblemSchema } from "../../src/platform/http/problem.ts";
import { requestContext } from "../../src/platform/http/request-context.ts";
import { listNotifications, NOTIFICATION_PAGE_SIZE, NotificationPageSchema } from "./application/list-notifications.ts";
import type { NotificationRepository } from "./infrastructure/notification-repository.ts";

export interface NotificationRoutesDependencies {
  authSecret: string;
  db: Executor;
  repository: NotificationRepository;
}

/** The notification module's HTTP API: the admin's view of the e-mails sent, pending or failed. */
export function notificationRoutes(deps: NotificationRoutesDependencies) {
  return (
    new Elysia({ name: "notification-routes" })
      .use(requestContext())
      .use(authPlugin(deps.authSecret))
      .get("/notifications", ({ query }) => listNotifications(deps.db, deps.repository, query), {
        auth: "admin",
        query: t.Object({
          orderId: t.Optional(t.String({ format: "uuid", description: "only the e-mails of this order" })),
          ...pageQuery({ defaultLimit: NOTIFICATION_PAGE_SIZE }),
        }),
        response: { 200: NotificationPageSchema, 401: ProblemSchema, 403: ProblemSchema, 422: ProblemSchema },
        detail: { tags: ["notifications"], summary: "E-mails sent, pending or failed (admin), newest first" },
      })
  );
}
