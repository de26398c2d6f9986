import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { BEARER_SCHEME } from "./auth.ts";

/**
 * OpenAPI UI at `/docs` and the document at `/docs/json`, generated from every route's schemas —
 * including the routes of module routers `.use()`d after this plugin (the spec is built on request
 * from the root's route list).
 */
export function docs(options: { version?: string } = {}) {
  return openapi({
    path: "/docs",
    specPath: "/docs/json",
    documentation: {
      info: {
        title: "Shop API",
        version: options.version ?? "0.0.0",
        description:
          "Orders, inventory and notifications. Errors are RFC 9457 application/problem+json. " +
          "The events the modules publish are documented in AsyncAPI at /docs/asyncapi.json.",
      },
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        },
      },
    },
  });
}

/**
 * The AsyncAPI document of the events (src/platform/messaging/asyncapi.ts) at `/docs/asyncapi.json`: like `/docs/json`,
 * no token, and hidden from the OpenAPI document, which lists the API's own operations.
 */
export function eventsDocumentRoute(document: object) {
  return new Elysia().get("/docs/asyncapi.json", () => document, { detail: { hide: true } });
}
