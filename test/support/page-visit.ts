/** What a browser test learns from one page load, read in the page itself (Chromium and Firefox alike). */

/** Navigation Timing, Resource Timing and the largest contentful paint, in ms after the navigation started. */
export interface PageTiming {
  /** The first interim response (the 103); 0 when none came or the browser does not say (Firefox 140). */
  firstInterimResponseStart: number;
  responseEnd: number;
  loadEventEnd: number;
  /** startTime of the latest `largest-contentful-paint` entry; NaN when the browser reported none. */
  lcp: number;
  resources: { path: string; initiatorType: string }[];
  status: string | null;
}

export interface PageVisit {
  /** Browser name and version, as the driver reports it. */
  browser: string;
  status: number | undefined;
  /** The final response's `Link` header. */
  link: string | undefined;
  timing: PageTiming;
  /** initiatorType of each resource the page loaded, by path (`early-hints` for those a 103 preloaded). */
  initiators: Record<string, string>;
}

/** Runs in the page: no DOM types here, so the entries are described by hand. */
export async function readPageTiming(): Promise<PageTiming> {
  type Navigation = { firstInterimResponseStart?: number; responseEnd: number; loadEventEnd: number };
  // Node's typings know no 'navigation' entry type; the browser's Performance API does.
  const entries = (type: string) => (performance as unknown as { getEntriesByType(type: string): unknown[] }).getEntriesByType(type);
  const [navigation] = entries('navigation') as Navigation[];
  const resources = entries('resource') as { name: string; initiatorType: string }[];
  const doc = (globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document;
  // LCP entries are not listed by getEntriesByType: a buffered observer replays them.
  type Observer = new (callback: (list: { getEntries(): { startTime: number }[] }) => void) => { observe(options: object): void; disconnect(): void };
  const LcpObserver = (globalThis as unknown as { PerformanceObserver: Observer }).PerformanceObserver;
  const lcp = await new Promise<number>((resolve) => {
    const observer = new LcpObserver((list) => {
      observer.disconnect();
      resolve(list.getEntries().at(-1)?.startTime ?? NaN);
    });
    observer.observe({ type: 'largest-contentful-paint', buffered: true });
    setTimeout(() => resolve(NaN), 1000);
  });
  return {
    firstInterimResponseStart: navigation.firstInterimResponseStart ?? 0,
    responseEnd: navigation.responseEnd,
    loadEventEnd: navigation.loadEventEnd,
    lcp,
    resources: resources.map((r) => ({ path: new URL(r.name).pathname, initiatorType: r.initiatorType })),
    status: doc.getElementById('status')?.textContent ?? null,
  };
}

export function initiatorsOf(timing: PageTiming): Record<string, string> {
  return Object.fromEntries(timing.resources.map((r) => [r.path, r.initiatorType]));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
