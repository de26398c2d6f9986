import { AMQPClient } from "@cloudamqp/amqp-client";
import { topologyNames } from "../platform/messaging/topology.ts";

export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

/** A unique AMQP_PREFIX for one test file, so its exchanges and queues collide with nothing. */
export function testPrefix(label: string): string {
  return `test.${label}.${crypto.randomUUID().slice(0, 8)}.`;
}

/** Deletes everything a prefix created: the events/unrouted exchanges and each module's queues. */
export async function deleteBrokerObjects(prefix: string, modules: string[], retryDelaysMs: number[] = []): Promise<void> {
  const names = topologyNames(prefix);
  const client = new AMQPClient(TEST_AMQP_URL, undefined, null);
  await client.connect();
  try {
    const queues = [names.unrouted, ...modules.flatMap((m) => [names.queue(m), names.dlq(m), ...retryDelaysMs.map((d) => names.retry(m, d))])];
    for (const queue of queues) {
      const ch = await client.channel();
      await ch.queueDelete(queue).catch(() => {});
      if (!ch.closed) await ch.close().catch(() => {});
    }
    for (const exchange of [names.events, names.unrouted]) {
      const ch = await client.channel();
      await ch.exchangeDelete(exchange).catch(() => {});
      if (!ch.closed) await ch.close().catch(() => {});
    }
  } finally {
    await client.close().catch(() => {});
  }
}

/** Reads (and removes) every message waiting in a queue right now. */
export async function drainQueue(queue: string): Promise<Array<{ body: string; headers: Record<string, unknown> }>> {
  const client = new AMQPClient(TEST_AMQP_URL, undefined, null);
  await client.connect();
  try {
    const ch = await client.channel();
    const out: Array<{ body: string; headers: Record<string, unknown> }> = [];
    for (;;) {
      const msg = await ch.basicGet(queue, { noAck: true });
      if (!msg) break;
      out.push({ body: msg.bodyString() ?? "", headers: (msg.properties.headers ?? {}) as Record<string, unknown> });
    }
    return out;
  } finally {
    await client.close().catch(() => {});
  }
}

/** Publishes raw bytes straight to an exchange (tests that forge poison or duplicate messages). */
export async function publishRaw(exchange: string, routingKey: string, body: string, properties: Record<string, unknown> = {}): Promise<void> {
  const client = new AMQPClient(TEST_AMQP_URL, undefined, null);
  await client.connect();
  try {
    const ch = await client.channel();
    await ch.confirmSelect();
    await ch.basicPublish(exchange, routingKey, body, { deliveryMode: 2, contentType: "application/json", ...properties });
  } finally {
    await client.close().catch(() => {});
  }
}
