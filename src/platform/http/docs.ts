import { openapi } from "@elysiajs/openapi";
import { Elysia, t } from "elysia";
import { BEARER_SCHEME } from "./auth.ts";

const EVENT_STREAM = "text/event-stream";

/**
 * The schema of an event stream's 200 answer. The OpenAPI plugin files every string answer under `text/plain`;
 * docs() moves this one under `text/event-stream`.
 */
export function eventStreamSchema(description: string) {
  return t.String({ description, contentMediaType: EVENT_STREAM });
}

/**
 * OpenAPI UI at `/docs` and the document at `/docs/json`, generated from every route's schemas —
 * including the routes of module routers `.use()`d after this plugin (the spec is built on request
 * from the root's route list).
 */
export function docs(options: { version?: string } = {}) {
  return (
    new Elysia({ name: "platform.docs" })
      // Registered before the plugin, so it applies to the plugin's /docs/json route.
      .onAfterHandle(({ response }) => {
        if (isDocument(response)) fileEventStreams(response);
      })
      .use(
        openapi({
          path: "/docs",
          specPath: "/docs/json",
          documentation: {
            info: {
              title: "Shop API",
              version: options.version ?? "0.0.0",
              description: "Orders, inventory and notifications. Errors are RFC 9457 application/problem+json.",
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

interface Document {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: { contentMediaType?: string } }> }> }>>;
}

function isDocument(response: unknown): response is Document {
  return typeof response === "object" && response !== null && "openapi" in response && "paths" in response;
}

/** Moves each answer marked by eventStreamSchema() from `text/plain` to `text/event-stream` (idempotent: the plugin caches the document). */
function fileEventStreams(document: Document): void {
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations)) {
      for (const answer of Object.values(operation.responses ?? {})) {
        const plain = answer.content?.["text/plain"];
        if (plain?.schema?.contentMediaType === EVENT_STREAM) answer.content = { [EVENT_STREAM]: plain };
      }
    }
  }
}
