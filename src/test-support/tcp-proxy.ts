import net from "node:net";

/**
 * A TCP proxy for fault tests: put it between the app and RabbitMQ or PostgreSQL, then cut every
 * connection, refuse new ones, and let them through again — a real outage, no mocks.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private refusing = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<this> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Drops every open connection (both sides see a reset). New connections still go through unless refusing. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Cuts everything and refuses new connections until `restore()`. */
  down(): void {
    this.refusing = true;
    this.cut();
  }

  restore(): void {
    this.refusing = false;
  }

  get connections(): number {
    return this.sockets.size / 2;
  }

  async stop(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(a);
      a.on("data", (chunk) => b.write(chunk));
      a.on("error", () => b.destroy());
      a.on("close", () => {
        this.sockets.delete(a);
        b.destroy();
      });
    }
  }
}
