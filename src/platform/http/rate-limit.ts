import { Elysia } from "elysia";
import { RateLimitedError } from "../errors.ts";
import type { Principal } from "./principal.ts";
import { addressKey, clientAddress, type ClientAddressSettings } from "./client-address.ts";

/** One limit: how many requests a key may make per minute. */
export interface RateLimitSettings {
  /** Requests per key per minute, which is also the burst a key may spend at once; 0 = no limit. */
  perMinute: number;
  /** The clock (ms); tests pass one they advance instead of waiting. */
  now?: () => number;
}

/**
 * Keys a limiter remembers at most. A key whose bucket has refilled is forgotten (it would pass anyway); beyond
 * this many active keys the least recently seen goes first, so memory stays bounded even under a flood of new
 * addresses (such a flood can then reset a quiet key's count; it cannot make the process grow).
 */
export const MAX_RATE_LIMIT_KEYS = 100_000;

export interface RateLimiter {
  /** Takes one request's token for `key`: 0 when it may pass, else the milliseconds until its next token. */
  take(key: string): number;
  /** Keys remembered now. */
  readonly size: number;
}

/**
 * A token bucket per key, in this process's memory: each key holds up to `perMinute` tokens, refilled evenly over
 * the minute, and a request spends one. Per instance: N instances behind a load balancer let up to N× through.
 */
export function createRateLimiter(settings: RateLimitSettings, maxKeys = MAX_RATE_LIMIT_KEYS): RateLimiter {
  const { perMinute, now = Date.now } = settings;
  const perMs = perMinute / 60_000;
  // In least-recently-used order (a key is moved to the end when used): idle keys gather at the front.
  const buckets = new Map<string, { tokens: number; at: number }>();
  // A clock that steps back refills nothing rather than taking tokens away.
  const tokensAt = (bucket: { tokens: number; at: number }, time: number) => Math.min(perMinute, bucket.tokens + Math.max(0, time - bucket.at) * perMs);

  return {
    take(key) {
      const time = now();
      for (const [idleKey, bucket] of buckets) {
        if (tokensAt(bucket, time) < perMinute) break;
        buckets.delete(idleKey);
      }
      const bucket = buckets.get(key);
      const tokens = bucket ? tokensAt(bucket, time) : perMinute;
      buckets.delete(key);
      if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!);
      const passes = tokens >= 1;
      buckets.set(key, { tokens: passes ? tokens - 1 : tokens, at: time });
      return passes ? 0 : Math.ceil((1 - tokens) / perMs);
    },
    get size() {
      return buckets.size;
    },
  };
}

/** What a route is limited by: the caller's token `sub` (after `auth`), or the client's address. */
export type RateLimitKey = "customer" | "client-address";

export interface RateLimitPluginSettings {
  /** The limit per customer, for routes with `{ rateLimit: "customer" }`; absent: none. */
  perCustomer?: RateLimitSettings | undefined;
  /** The limit per client address, for routes with `{ rateLimit: "client-address" }`; absent: none. */
  perClientAddress?: RateLimitSettings | undefined;
  clientAddress?: ClientAddressSettings | undefined;
}

/**
 * Gives a module's routes the `rateLimit` macro. Its check is a `transform`, written after `auth` on the route, so
 * it runs after authentication and before the input is validated or anything is read: a refused request costs
 * no database work. Over the limit: RateLimitedError, answered 429 with `Retry-After`.
 */
export function rateLimitPlugin(settings: RateLimitPluginSettings) {
  const limiterOf = (limit: RateLimitSettings | undefined) => (limit && limit.perMinute > 0 ? createRateLimiter(limit) : undefined);
  const perCustomer = limiterOf(settings.perCustomer);
  const perClientAddress = limiterOf(settings.perClientAddress);
  const clientAddressSettings = settings.clientAddress ?? {};

  // Unnamed: each module has limiters of its own, and a named plugin would be applied once whatever its settings.
  return new Elysia().macro({
    rateLimit: (key: RateLimitKey) => ({
      transform(context) {
        const { request, server } = context;
        if (key === "customer") {
          // Derived by authPlugin, which the module applies before its routes (typed loosely here, as in auth.ts).
          const principal = (context as { principal?: Principal | null }).principal;
          if (perCustomer && principal) refuseWhenOver(perCustomer, principal.sub);
          return;
        }
        // No socket (a request handed to the app in-process) means no address to count it by.
        const address = clientAddress(request, server?.requestIP(request)?.address, clientAddressSettings);
        if (perClientAddress && address) refuseWhenOver(perClientAddress, addressKey(address));
      },
    }),
  });
}

function refuseWhenOver(limiter: RateLimiter, key: string): void {
  const waitMs = limiter.take(key);
  if (waitMs === 0) return;
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  throw new RateLimitedError("RATE_LIMITED", `Too many requests; retry in ${retryAfterSeconds} s.`, retryAfterSeconds);
}
