/** Exponential backoff with full jitter, capped. attempt starts at 0. */
export function backoffDelay(attempt: number, baseMs = 500, maxMs = 15_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, waiting longer after each failure; `onFailure` is told why.
 * Stops (rejecting with the last error) only when `signal` aborts.
 */
export async function retryForever<T>(
  attempt: () => Promise<T>,
  onFailure: (error: unknown, delayMs: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted) throw error;
      const delay = backoffDelay(n);
      onFailure(error, delay);
      await sleep(delay, signal);
      if (signal?.aborted) throw error;
    }
  }
}
