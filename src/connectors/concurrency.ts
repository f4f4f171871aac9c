/**
 * Runs `fn` over `items` with at most `limit` calls in flight and returns the
 * results in the order of `items`. Syncs use it for the per-item requests
 * behind one list page (an issue's timeline, a pull request's reviews): over a
 * real network those requests are round trips, not work, and a handful in
 * flight makes a backfill several times faster while staying well inside
 * GitHub's guidance on concurrent requests. The first error stops new calls
 * and is thrown once the calls in flight have settled.
 */
export const mapWithConcurrency = async <T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
};
