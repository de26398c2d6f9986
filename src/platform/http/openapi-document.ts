import { toOpenAPISchema } from "@elysiajs/openapi";
import { t, type AnyElysia } from "elysia";

// What @elysiajs/openapi 1.4 gets wrong about this shop, mended after it has built the document:
//
// - Request bodies. The root parses JSON with a function of its own (json-body.ts); the generator lists a body's
//   media types only for parsers it knows by name, so every body came out as `content: {}`. The bodies are
//   generated again from a view of the routes whose parser is Elysia's named JSON one, which is what the
//   shop's parser accepts (application/json), and each gets the example its schema carries.
// - Problem answers. The generator writes every answer as application/json; the shop answers errors as
//   RFC 9457 application/problem+json (problem.ts).
// - Event streams. The generator files every string answer under text/plain; an answer whose schema is
//   eventStreamSchema() is text/event-stream.

type Json = Record<string, any>;

const PROBLEM_FIELDS = ["type", "title", "status"];
const EVENT_STREAM = "text/event-stream";

/** The schema of an event stream's 200 answer (Server-Sent Events), documented as text/event-stream. */
export function eventStreamSchema(description: string) {
  return t.String({ description, contentMediaType: EVENT_STREAM });
}

// The two calls the generator itself makes on an app (protected in Elysia's types, public at run time): every route
// of the root app the plugin is used in, and the models it declares.
interface RouteSource {
  getGlobalRoutes(): { method: string; path: string; hooks: Json }[];
  getGlobalDefinitions(): unknown;
}

/** `doc` as served: request bodies with their media type, schema and example, problems as application/problem+json. */
export function completeDocument(doc: Json, app: AnyElysia): Json {
  const bodies = requestBodies(app, doc.openapi);
  const paths: Json = {};
  for (const [path, operations] of Object.entries(doc.paths as Json)) {
    paths[path] = {};
    for (const [method, operation] of Object.entries(operations as Json)) {
      const requestBody = bodies.get(`${method} ${path}`);
      paths[path][method] = {
        ...operation,
        ...(operation.requestBody && requestBody ? { requestBody } : {}),
        ...(operation.responses ? { responses: withMediaTypes(operation.responses) } : {}),
      };
    }
  }
  return { ...doc, paths };
}

/** Each route's request body (by `method path` as in the document), generated as if it used Elysia's JSON parser. */
function requestBodies(app: AnyElysia, openapiVersion: string): Map<string, Json> {
  const source = app as unknown as RouteSource;
  const routes = source.getGlobalRoutes().filter((route) => route.hooks?.body !== undefined);
  const view: RouteSource = {
    getGlobalDefinitions: () => source.getGlobalDefinitions(),
    getGlobalRoutes: () => routes.map((route) => ({ ...route, hooks: { ...route.hooks, parse: [{ fn: "application/json" }] } })),
  };
  const { paths } = toOpenAPISchema(view as unknown as AnyElysia, undefined, undefined, undefined, openapiVersion as never) as { paths: Json };
  const optional = new Set(routes.filter((route) => isOptional(route.hooks.body)).map((route) => `${route.method.toLowerCase()} ${openapiPath(route.path)}`));
  const bodies = new Map<string, Json>();
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations as Json)) {
      const body = operation.requestBody as Json | undefined;
      const media = body?.content?.["application/json"];
      if (!body || !media) continue;
      const example = media.schema?.examples?.[0];
      bodies.set(`${method} ${path}`, {
        ...body,
        required: !optional.has(`${method} ${path}`),
        content: { "application/json": { ...media, ...(example === undefined ? {} : { example }) } },
      });
    }
  }
  return bodies;
}

function withMediaTypes(responses: Json): Json {
  return Object.fromEntries(
    Object.entries(responses).map(([status, response]) => {
      const json = response?.content?.["application/json"];
      if (Number(status) >= 400 && PROBLEM_FIELDS.every((field) => json?.schema?.required?.includes(field))) {
        return [status, { ...response, content: { "application/problem+json": json } }];
      }
      const plain = response?.content?.["text/plain"];
      if (plain?.schema?.contentMediaType === EVENT_STREAM) return [status, { ...response, content: { [EVENT_STREAM]: plain } }];
      return [status, response];
    }),
  );
}

// A body schema wrapped in t.Optional (e.g. the optional body of POST /orders/:id/cancel) carries TypeBox's marker.
function isOptional(schema: unknown): boolean {
  return typeof schema === "object" && schema !== null && (schema as Record<symbol, unknown>)[Symbol.for("TypeBox.Optional")] === "Optional";
}

function openapiPath(path: string): string {
  return path.replace(/:([^/]+)/g, "{$1}");
}
