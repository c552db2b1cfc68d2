/** Counts requests per route, so tests and benchmarks can see whether a client caches its lookups. */
export interface RequestCounter {
  count(route: string): void;
  snapshot(): { requests: number; byRoute: Record<string, number> };
}

export function createRequestCounter(): RequestCounter {
  const byRoute = new Map<string, number>();
  let requests = 0;
  return {
    count(route) {
      requests++;
      byRoute.set(route, (byRoute.get(route) ?? 0) + 1);
    },
    snapshot() {
      return { requests, byRoute: Object.fromEntries(byRoute) };
    },
  };
}
