import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import type { Backend } from './backends.js';

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

export interface AppInChromium {
  app: RunningApp;
  browser: Browser;
  /** Contexts a test opens; all are closed with the browser. */
  contexts: BrowserContext[];
}

/**
 * The reference app on `makeBackend()` and a Chromium to drive it, for the enclosing `describe`; everything is
 * closed afterwards, in reverse order. Fields are set in `beforeAll`, so read them inside tests only.
 */
export function appInChromium(makeBackend: () => Backend): AppInChromium {
  let backend: Backend | undefined;
  const running = { contexts: [] } as unknown as AppInChromium;
  beforeAll(async () => {
    backend = makeBackend();
    const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', ...(await backend.env()) });
    running.app = await startReferenceApp(config);
    running.browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    for (const context of running.contexts) await context.close();
    await running.browser?.close();
    await running.app?.shutdown();
    await backend?.cleanup();
  });
  return running;
}
