/**
 * Polls `probe` until it returns a value that `accept` takes (default: truthy), or fails after `timeoutMs`
 * with the last value seen — the honest replacement for sleep-and-hope.
 */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  options: { timeoutMs?: number; intervalMs?: number; accept?: (value: T) => boolean; what?: string } = {},
): Promise<T> {
  const { timeoutMs = 15_000, intervalMs = 50, accept = (v: T) => Boolean(v), what = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      lastError = undefined;
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await Bun.sleep(intervalMs);
  }
  const seen = lastError ? `last error: ${(lastError as Error).message}` : `last value: ${JSON.stringify(last)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${seen})`);
}
