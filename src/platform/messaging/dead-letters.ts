import { AMQPClient, type AMQPChannel, type AMQPMessage } from "@cloudamqp/amqp-client";
import { DEAD_LETTER_REASON_HEADER, RETRY_COUNT_HEADER } from "./consumer.ts";
import { topologyNames } from "./topology.ts";

/** One message parked in a module's DLQ, as an operator sees it. */
export interface DeadLetter {
  messageId: string | undefined;
  /** The event's name: its `type` property, else the routing key it was first published with. */
  event: string | undefined;
  /** The routing key it was first published with (not the DLQ it was forwarded to). */
  routingKey: string;
  reason: string;
  failedAt: string | undefined;
  correlationId: string | undefined;
  body: string;
}

export interface DeadLetterTarget {
  amqpUrl: string;
  prefix: string;
  module: string;
}

/** Reads every message in the module's DLQ without removing any (they are all returned to the queue). */
export async function listDeadLetters(target: DeadLetterTarget): Promise<DeadLetter[]> {
  return withDlq(target, async (ch, dlq) => {
    const seen: DeadLetter[] = [];
    // Unacked messages are not handed out again on this channel, so this visits each one once;
    // closing the channel (in withDlq) puts them all back.
    for (let message = await ch.basicGet(dlq, { noAck: false }); message; message = await ch.basicGet(dlq, { noAck: false })) seen.push(describe(message));
    return seen;
  });
}

/**
 * Sends parked messages back to the module's own queue (never the topic exchange: other modules
 * already had them) with their retry count reset; `ids` limits it to those message ids.
 * Each is removed from the DLQ only after the broker confirmed the re-drive.
 */
export async function replayDeadLetters(target: DeadLetterTarget, ids?: string[]): Promise<DeadLetter[]> {
  const names = topologyNames(target.prefix);
  return withDlq(target, async (ch, dlq) => {
    // Only what is parked now: a replayed message that fails again is parked again behind these, and reading
    // until the queue is empty would replay it again and again for as long as the module keeps up.
    const { messageCount } = await ch.queueDeclare(dlq, { passive: true });
    await ch.confirmSelect();
    const replayed: DeadLetter[] = [];
    for (let seen = 0; seen < messageCount; seen++) {
      const message = await ch.basicGet(dlq, { noAck: false });
      if (!message) break;
      const letter = describe(message);
      if (ids && ids.length > 0 && !ids.includes(letter.messageId ?? "")) continue;
      const { [DEAD_LETTER_REASON_HEADER]: _reason, [RETRY_COUNT_HEADER]: _retries, "x-death": _death, ...headers } =
        message.properties.headers ?? {};
      await ch.basicPublish("", names.queue(target.module), message.body, {
        ...message.properties,
        headers: { ...headers, "x-replayed-at": new Date().toISOString() },
      });
      await message.ack();
      replayed.push(letter);
    }
    return replayed;
  });
}

/** How many messages wait in the module's DLQ. */
export async function countDeadLetters(target: DeadLetterTarget): Promise<number> {
  return withDlq(target, async (ch, dlq) => (await ch.queueDeclare(dlq, { passive: true })).messageCount);
}

async function withDlq<T>(target: DeadLetterTarget, work: (ch: AMQPChannel, dlq: string) => Promise<T>): Promise<T> {
  const dlq = topologyNames(target.prefix).dlq(target.module);
  const client = new AMQPClient(target.amqpUrl, undefined, null);
  await client.connect();
  try {
    const ch = await client.channel();
    await ch.queueDeclare(dlq, { passive: true }).catch(() => {
      throw new Error(`no dead-letter queue ${dlq}: has the ${target.module} module ever run with AMQP_PREFIX=${target.prefix}?`);
    });
    const result = await work(ch, dlq);
    await ch.close().catch(() => {});
    return result;
  } finally {
    await client.close().catch(() => {});
  }
}

function describe(message: AMQPMessage): DeadLetter {
  const headers = message.properties.headers ?? {};
  const death = (headers["x-death"] as Array<{ reason?: string; queue?: string; "routing-keys"?: string[] }> | undefined)?.[0];
  // The consumer parks with x-original-routing-key; the broker (delivery limit) keeps the first key in x-death.
  const routingKey = (headers["x-original-routing-key"] as string | undefined) ?? death?.["routing-keys"]?.[0] ?? message.routingKey;
  const reason =
    (headers[DEAD_LETTER_REASON_HEADER] as string | undefined) ??
    (death ? `broker dead-lettered it (${death.reason} in ${death.queue})` : "unknown");
  return {
    messageId: message.properties.messageId,
    event: message.properties.type ?? routingKey,
    routingKey,
    reason,
    failedAt: headers["x-failed-at"] as string | undefined,
    correlationId: message.properties.correlationId,
    body: message.bodyString() ?? "",
  };
}
