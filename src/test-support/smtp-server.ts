import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  mailFrom: string;
  rcptTo: string[];
  raw: string;
  /** When the server accepted it (Date.now()). */
  at: number;
}

export interface TestSmtpServer {
  url: string;
  received: ReceivedMail[];
  /** When each DATA command ended (accepted or refused). */
  attempts: number[];
  /** From now on, answer DATA with `451 <reason>` (until `accept()`). */
  refuse(reason: string): void;
  /** From now on, accept every message. */
  accept(): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server (smtp-server) on a random port of 127.0.0.1 that records what reaches it. `refuse` makes it
 * answer DATA with `451 <refuse>` that many times (`refuseTimes`, default: always); `delayMs` slows every answer.
 */
export async function startSmtpServer(options: { refuse?: string; refuseTimes?: number; delayMs?: number } = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const attempts: number[] = [];
  let refusal = options.refuse;
  let refusalsLeft = options.refuse ? (options.refuseTimes ?? Infinity) : 0;
  const server = new SMTPServer({
    authOptional: true,
    // Its bundled certificate has expired: a client that upgraded to TLS would fail the handshake.
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      // smtp-server resets the session's envelope once the callback ran: copy it first.
      const envelope = {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
        rcptTo: session.envelope.rcptTo.map((r) => r.address),
      };
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        if (options.delayMs) await Bun.sleep(options.delayMs);
        attempts.push(Date.now());
        if (refusalsLeft > 0) {
          refusalsLeft--;
          return callback(Object.assign(new Error(refusal), { responseCode: 451 }));
        }
        received.push({ ...envelope, raw: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
        callback();
      })().catch((error) => callback(error as Error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    attempts,
    refuse(reason) {
      refusal = reason;
      refusalsLeft = Infinity;
    },
    accept() {
      refusalsLeft = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The Subject header of a raw message (unfolded). */
export function subjectOf(raw: string): string | undefined {
  const head = raw.split("\r\n\r\n")[0]!.replace(/\r\n[ \t]+/g, " ");
  return /^subject:\s*(.*)$/im.exec(head)?.[1]?.trim();
}
