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

/**
 * What a client's requests are counted by: an IPv4 address itself (an IPv4-mapped IPv6 one as IPv4), an IPv6 address
 * by its /64. An IPv6 host is normally given a whole /64 and can pick a new address in it for every request, so
 * counting single addresses would let one client multiply its budget at will.
 */
export function addressKey(address: string): string {
  const version = isIP(address);
  if (version !== 6) return address;
  const groups = ipv6Groups(address.replace(/%.*$/, ""));
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join(".");
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

// The eight 16-bit groups of a valid IPv6 address (isIP said so): "::" expanded, a trailing dotted IPv4 as two groups.
function ipv6Groups(address: string): number[] {
  const toGroups = (part: string) =>
    part === ""
      ? []
      : part.split(":").flatMap((group) => {
          if (!group.includes(".")) return [parseInt(group, 16)];
          const [a, b, c, d] = group.split(".").map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = "", tail] = address.split("::");
  const [before, after] = [toGroups(head), tail === undefined ? [] : toGroups(tail)];
  return [...before, ...Array(8 - before.length - after.length).fill(0), ...after];
}
