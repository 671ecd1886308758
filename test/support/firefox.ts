import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { initiatorsOf, readPageTiming, type PageVisit } from './page-visit';

/** Debian's Firefox ESR (`apt-get install -y firefox-esr`). */
export const FIREFOX = '/usr/bin/firefox-esr';

/**
 * Firefox ESR, headless, driven by puppeteer-core over WebDriver BiDi (no geckodriver). It accepts the
 * test's self-signed certificate (`acceptInsecureCerts`, this browser only). Throws when Firefox is
 * missing: a browser test fails, it does not skip.
 */
export function launchFirefox(): Promise<Browser> {
  if (!existsSync(FIREFOX)) {
    throw new Error(`No Firefox at ${FIREFOX}: this test needs Debian's Firefox ESR (apt-get install -y firefox-esr). It fails rather than skips.`);
  }
  return puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, acceptInsecureCerts: true, headless: true, timeout: 60_000 });
}

/**
 * One page load in a new browser context of `browser` (its own HTTP cache and connections): reusing a
 * page would keep the cache, and a second visit would ask for nothing.
 */
export async function visitInFirefoxContext(browser: Browser, url: string): Promise<PageVisit> {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    const response = await page.goto(url, { waitUntil: 'load', timeout: 10_000 });
    const timing = await page.evaluate(readPageTiming);
    const version = (await browser.version()).replace(/^firefox\//i, '');
    return { browser: `Firefox ${version}`, status: response?.status(), link: response?.headers().link, timing, initiators: initiatorsOf(timing) };
  } finally {
    await context.close();
  }
}
