import { X509Certificate, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { initiatorsOf, readPageTiming, type PageVisit } from './page-visit';

/** Debian's Chromium (`apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless launch switches that trust exactly `cert`: Chromium accepts a server whose certificate's public
 * key (SubjectPublicKeyInfo) has this SHA-256, honoured only with --user-data-dir set (which Playwright
 * always passes). No blanket --ignore-certificate-errors. Throws when Chromium is missing: a browser test
 * fails, it does not skip.
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

async function load(context: BrowserContext, url: string, version: string): Promise<PageVisit> {
  const page = context.pages()[0] ?? (await context.newPage());
  const response = await page.goto(url, { waitUntil: 'load', timeout: 10_000 });
  const timing = await page.evaluate(readPageTiming);
  return { browser: `Chromium ${version}`, status: response?.status(), link: (await response?.allHeaders())?.link, timing, initiators: initiatorsOf(timing) };
}

/** One page load in a freshly launched Chromium with a fresh profile: nothing cached, no connection. */
export async function visitWithChromium(url: string, args: string[]): Promise<PageVisit> {
  const profile = await mkdtemp(join(tmpdir(), 'nestjs-http2-push-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, timeout: 15_000 });
    try {
      return await load(context, url, context.browser()?.version() ?? '?');
    } finally {
      await context.close();
    }
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** One Chromium for many visits, each in a context of its own (see visitInContext). */
export function launchChromium(args: string[]): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args, timeout: 30_000 });
}

/**
 * One page load in a new (incognito) context of `browser`: its own in-memory HTTP cache and its own
 * connections, so nothing carries over from earlier visits; much cheaper than launching a browser.
 */
export async function visitInContext(browser: Browser, url: string): Promise<PageVisit> {
  const context = await browser.newContext();
  try {
    return await load(context, url, browser.version());
  } finally {
    await context.close();
  }
}
