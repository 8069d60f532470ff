import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

/** Where the browser tests leave their screenshots (CI keeps test-artifacts/). */
export const ARTIFACTS = new URL('../../../test-artifacts/reference-e2e/', import.meta.url).pathname;

/**
 * Debian's Chromium, headless, driven by playwright-core (never a downloaded browser). Background networking
 * is off: the machine has no network but loopback, and Chromium's own calls out would only be refused.
 */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}
