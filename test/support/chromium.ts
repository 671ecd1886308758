import { X509Certificate, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless launch switches that trust exactly `cert`: Chromium accepts a server whose certificate's public
 * key (SubjectPublicKeyInfo) has this SHA-256, honoured only with --user-data-dir set (which
 * launchPersistentContext passes). No blanket --ignore-certificate-errors. Throws when Chromium is missing:
 * a browser test fails, it does not skip.
 */
export function chromiumArgs(cert: string): string[] {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: this test needs Debian's Chromium (apt-get install -y chromium). It fails rather than skips.`);
  }
  const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
    `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`,
  ];
}

/** What a page reports about itself (Navigation Timing and Resource Timing). */
export interface PageTiming {
  firstInterimResponseStart: number;
  responseEnd: number;
  loadEventEnd: number;
  resources: { path: string; initiatorType: string }[];
  status: string | null;
}

/** Runs in the page: no DOM types here, so the entries are described by hand. */
function readPageTiming(): PageTiming {
  type Navigation = { firstInterimResponseStart: number; responseEnd: number; loadEventEnd: number };
  // Node's typings know no 'navigation' entry type; the browser's Performance API does.
  const entries = (type: string) => (performance as unknown as { getEntriesByType(type: string): unknown[] }).getEntriesByType(type);
  const [navigation] = entries('navigation') as Navigation[];
  const resources = entries('resource') as { name: string; initiatorType: string }[];
  const doc = (globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document;
  return {
    firstInterimResponseStart: navigation.firstInterimResponseStart,
    responseEnd: navigation.responseEnd,
    loadEventEnd: navigation.loadEventEnd,
    resources: resources.map((r) => ({ path: new URL(r.name).pathname, initiatorType: r.initiatorType })),
    status: doc.getElementById('status')?.textContent ?? null,
  };
}

export interface ChromiumVisit {
  version: string;
  status: number | undefined;
  /** The final response's `Link` header. */
  link: string | undefined;
  timing: PageTiming;
  /** initiatorType of each resource the page loaded, by path (`early-hints` for those the 103 preloaded). */
  initiators: Record<string, string>;
}

/** One page load in a freshly launched Chromium with a fresh profile: nothing cached, no connection. */
export async function visitWithChromium(url: string, args: string[]): Promise<ChromiumVisit> {
  const profile = await mkdtemp(join(tmpdir(), 'nestjs-http2-push-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, timeout: 15_000 });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const response = await page.goto(url, { waitUntil: 'load', timeout: 10_000 });
      const timing = await page.evaluate(readPageTiming);
      return {
        version: context.browser()?.version() ?? '?',
        status: response?.status(),
        link: (await response?.allHeaders())?.link,
        timing,
        initiators: Object.fromEntries(timing.resources.map((r) => [r.path, r.initiatorType])),
      };
    } finally {
      await context.close();
    }
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
