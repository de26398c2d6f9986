import { AMQPClient, type AMQPChannel } from "@cloudamqp/amqp-client";
import type { Logger } from "../logger.ts";
import { describeFailure } from "../failures.ts";
import { backoffDelay, sleep } from "../retry.ts";

/**
 * One RabbitMQ connection that comes back by itself.
 *
 * Why not `AMQPSession`: it caches queue declarations (a redeclare after a broker reset never reaches
 * the wire) and re-consumes before its `onconnect` runs, so a consumer can come back before its queue
 * exists again. Here the order on every (re)connect is explicit: connect → every `onConnected` hook
 * (declare topology, open channels, subscribe) → `connected` becomes true.
 */
export class BrokerConnection {
  private client: AMQPClient | undefined;
  private up = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Ends the loop's wait for the current connection to be lost (used by stop). */
  private release: () => void = () => {};
  private readonly wakeLoop = new AbortController();
  private readonly hooks: Array<(client: AMQPClient) => Promise<void>> = [];
  private readonly downHooks: Array<() => void> = [];
  private firstConnect: { promise: Promise<void>; resolve: () => void };

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly name = "shop",
  ) {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstConnect = { promise, resolve };
  }

  /** Runs after every (re)connect, in registration order, before the connection counts as up. */
  onConnected(hook: (client: AMQPClient) => Promise<void>): void {
    this.hooks.push(hook);
  }

  onDisconnected(hook: () => void): void {
    this.downHooks.push(hook);
  }

  get connected(): boolean {
    return this.up && !!this.client && !this.client.closed;
  }

  /** The live client, if connected. */
  get current(): AMQPClient | undefined {
    return this.connected ? this.client : undefined;
  }

  /** Whether `client` is this connection's live client (not one that was lost or replaced since). */
  isCurrent(client: AMQPClient): boolean {
    return !this.stopped && this.client === client && !client.closed;
  }

  /** Ends once stop() was called: recovery loops wait on it instead of sleeping past a shutdown. */
  get stopSignal(): AbortSignal {
    return this.wakeLoop.signal;
  }

  get address(): string {
    const u = new URL(this.url);
    return `${u.hostname}:${u.port || "5672"}`;
  }

  /** Starts connecting in the background; never throws. `ready` resolves on the first success. */
  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  get ready(): Promise<void> {
    return this.firstConnect.promise;
  }

  /** A channel on the live connection; throws when the broker is not connected. */
  async channel(): Promise<AMQPChannel> {
    if (!this.connected || !this.client) throw new Error(`RabbitMQ is not connected (${this.address})`);
    return this.client.channel();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeLoop.abort();
    const client = this.client;
    this.up = false;
    if (client && !client.closed) {
      client.ondisconnect = undefined;
      await client.close("shutting down").catch(() => {});
    }
    this.release();
    await this.loop?.catch(() => {});
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let reported = false;
    while (!this.stopped) {
      const lost = new Promise<void>((resolve) => {
        this.release = resolve;
        void this.connectOnce(resolve)
          .then(() => {
            attempt = 0;
            if (reported) this.logger.info({ broker: this.address }, "RabbitMQ is reachable again");
            reported = false;
            this.firstConnect.resolve();
          })
          .catch((error) => {
            if (this.stopped) return resolve();
            const delay = backoffDelay(attempt++, 500, 10_000);
            const message =
              `RabbitMQ is unreachable at ${this.address} (${describeFailure(error)}); ` +
              `start it (e.g. \`docker compose up -d rabbitmq\`). Retrying in ${(delay / 1000).toFixed(1)}s.`;
            // Say it loudly once, then keep quieter while it stays down.
            if (!reported) this.logger.warn(message);
            else this.logger.debug(message);
            reported = true;
            void sleep(delay, this.wakeLoop.signal).then(resolve);
          });
      });
      await lost;
    }
  }

  /** Connects and runs the hooks; calls `onLost` once when this connection ends (or fails to come up). */
  private async connectOnce(onLost: () => void): Promise<void> {
    const url = new URL(this.url);
    if (!url.searchParams.has("heartbeat")) url.searchParams.set("heartbeat", "10");
    if (!url.searchParams.has("name")) url.searchParams.set("name", this.name);
    const client = new AMQPClient(url.toString(), undefined, null);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const wasUp = this.up;
      this.up = false;
      // Before it was up, a failure surfaces as connectOnce's rejection, which schedules the retry.
      if (!wasUp) return;
      this.logger.warn({ broker: this.address }, "RabbitMQ connection lost; reconnecting");
      for (const hook of this.downHooks) hook();
      // A short pause so a broker that accepts and drops at once is not hammered.
      void sleep(250, this.wakeLoop.signal).then(onLost);
    };
    client.ondisconnect = end;
    client.onerror = (error) => this.logger.debug({ err: error.message }, "RabbitMQ connection error");
    this.client = client;
    await client.connect();
    try {
      for (const hook of this.hooks) await hook(client);
    } catch (error) {
      // A half-set-up connection is worse than none: close it and let the loop try again.
      client.ondisconnect = undefined;
      await client.close().catch(() => {});
      throw error;
    }
    if (client.closed) throw new Error("connection closed during setup");
    this.up = true;
    if (this.stopped) {
      await client.close().catch(() => {});
      return;
    }
    this.logger.info({ broker: this.address }, "RabbitMQ connected");
  }
}
