import { isIP } from "node:net";

/** Where the client's address comes from (TRUSTED_PROXY_HEADER, TRUSTED_PROXY_HOPS). */
export interface ClientAddressSettings {
  /**
   * A header (lower case) that the proxy in front of the shop sets, e.g. `x-forwarded-for` or `x-real-ip`; unset: the
   * socket's address only. Only set it behind such a proxy: without one, any client can write the header.
   */
  trustedProxyHeader?: string | undefined;
  /**
   * Which comma-separated entry of the header, counted from the right: 1 is the one the nearest proxy appended (what
   * it saw), 2 when another trusted proxy stands in front of that one. Entries further left are the client's own claims.
   */
  trustedProxyHops?: number;
}

/**
 * The address of the client that sent `request`: the socket's peer, or — only when a trusted proxy header is
 * configured — the entry that proxy wrote. A header that is missing, too short or holds no IP address changes
 * nothing (the socket's address). Undefined when there is no socket (a request handed to the app in-process).
 */
export function clientAddress(
  request: Request,
  socketAddress: string | undefined,
  settings: ClientAddressSettings,
): string | undefined {
  const { trustedProxyHeader, trustedProxyHops = 1 } = settings;
  if (!trustedProxyHeader) return socketAddress;
  const entries = (request.headers.get(trustedProxyHeader) ?? "").split(",").map((entry) => entry.trim());
  const entry = entries.length >= trustedProxyHops ? entries[entries.length - trustedProxyHops] : undefined;
  return entry !== undefined && isIP(entry) !== 0 ? entry : socketAddress;
}
