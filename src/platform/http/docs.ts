import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { BEARER_SCHEME } from "./auth.ts";
import { completeDocument } from "./openapi-document.ts";

const SPEC_PATH = "/docs/json";

/**
 * OpenAPI UI at `/docs` and the document at `/docs/json`, generated from every route's schemas —
 * including the routes of module routers `.use()`d after this plugin (the spec is built on request
 * from the root's route list) — and completed by `completeDocument` (request bodies, problem and event-stream media types).
 */
export function docs(options: { version?: string } = {}) {
  // The generator rebuilds its document when routes were added and hands back the same object otherwise.
  let completed: { from: unknown; doc: unknown } | undefined;
  const plugin = new Elysia({ name: "platform.docs" });
  return (
    plugin
      // Local: runs for the two routes of the generator below and no other.
      .onAfterHandle(({ path, response }) => {
        if (path !== SPEC_PATH) return;
        if (!completed || completed.from !== response) completed = { from: response, doc: completeDocument(response as Record<string, unknown>, plugin) };
        return completed.doc;
      })
      .use(
        openapi({
          path: "/docs",
          specPath: SPEC_PATH,
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
        }),
      )
  );
}

/**
 * The AsyncAPI document of the events (src/platform/messaging/asyncapi.ts) at `/docs/asyncapi.json`: like `/docs/json`,
 * no token, and hidden from the OpenAPI document, which lists the API's own operations.
 */
export function eventsDocumentRoute(document: object) {
  return new Elysia().get("/docs/asyncapi.json", () => document, { detail: { hide: true } });
}
