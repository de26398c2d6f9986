import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { useTracer } from "./spans.ts";

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the receiver's base URL; spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  serviceVersion: string;
  /** The modules this process runs (resource attribute `shop.modules`). */
  modules: readonly string[];
}

export interface Tracing {
  /** Exports the spans still buffered, then stops making spans. */
  shutdown(): Promise<void>;
}

/**
 * Sets up the OpenTelemetry SDK for this process: spans are batched (BatchSpanProcessor) and sent as OTLP/HTTP JSON
 * to OTEL_EXPORTER_OTLP_ENDPOINT with `/v1/traces` appended, as the OTLP specification says (OTEL_EXPORTER_OTLP_HEADERS,
 * _TIMEOUT and OTEL_BSP_* are read by the exporter and the processor themselves). The context travels through async calls in an
 * AsyncLocalStorage, which Bun implements. Only manual spans: the Node SDK's auto-instrumentation does not work on Bun.
 * Called only when the endpoint is set: otherwise nothing of the SDK is ever loaded into play.
 */
export function startTracing(options: TracingOptions): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: "shop",
      [ATTR_SERVICE_VERSION]: options.serviceVersion,
      "shop.modules": [...options.modules],
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(options.endpoint) }))],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  useTracer(provider.getTracer("shop", options.serviceVersion));
  return {
    async shutdown() {
      useTracer(undefined);
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
      }
    },
  };
}

function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}
