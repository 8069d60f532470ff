import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';

/** The credentials every deployment had before: a constant in the source, so anyone could introspect. */
const FORMER_DEMO_CLIENT = {
  id: 'reference-resource-server',
  secret: 'demo-introspection-secret-0123456789',
};

const dataDir = mkdtempSync(join(tmpdir(), 'sk-reference-introspection-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(`${dataDir}.kek`, { force: true });
});

/** What RFC 7662 introspection answers these HTTP Basic credentials. */
async function introspect(app: { url: string }, client: { id: string; secret: string }): Promise<number> {
  const response = await fetch(`${app.url}/oauth/introspect`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token: 'not-a-token' }),
  });
  await response.body?.cancel();
  return response.status;
}

describe('the introspection client (RFC 7662 / RFC 7009)', () => {
  const base = { PORT: '0', COOKIE_SECURE: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir };

  it('is generated once when unset, shared through the database, and the former constant is refused', async () => {
    let first: RunningApp | undefined = await startReferenceApp(loadConfig(base));
    const generated = first.oauthClient;
    try {
      expect(generated.id).toBe('reference-resource-server');
      expect(generated.secret.length).toBeGreaterThanOrEqual(32);
      expect(generated.secret).not.toBe(FORMER_DEMO_CLIENT.secret);
      expect(await introspect(first, FORMER_DEMO_CLIENT)).toBe(401);
      expect(await introspect(first, generated)).toBe(200);
      await first.shutdown();
      first = undefined;

      // Another instance on the same data (here: the next start) agrees on the secret.
      const second = await startReferenceApp(loadConfig(base));
      try {
        expect(second.oauthClient).toEqual(generated);
        expect(await introspect(second, generated)).toBe(200);
      } finally {
        await second.shutdown();
      }
    } finally {
      await first?.shutdown();
    }
  }, 120_000);

  it('takes its id and secret from INTROSPECTION_CLIENT_ID / INTROSPECTION_CLIENT_SECRET', async () => {
    const configured = { id: 'billing-api', secret: 'a-secret-the-operator-chose-0123456789' };
    const app = await startReferenceApp(
      loadConfig({
        ...base,
        INTROSPECTION_CLIENT_ID: configured.id,
        INTROSPECTION_CLIENT_SECRET: configured.secret,
      }),
    );
    try {
      expect(app.oauthClient).toEqual(configured);
      expect(await introspect(app, configured)).toBe(200);
      expect(await introspect(app, FORMER_DEMO_CLIENT)).toBe(401);
      expect(await introspect(app, { ...configured, secret: `${configured.secret}x` })).toBe(401);
    } finally {
      await app.shutdown();
    }
  }, 120_000);

  it('refuses a short secret or an id unfit for HTTP Basic at start-up', () => {
    for (const env of [
      { INTROSPECTION_CLIENT_SECRET: 'too-short' },
      { INTROSPECTION_CLIENT_ID: 'has:colon' },
      { INTROSPECTION_CLIENT_ID: '' },
    ]) {
      expect(() => loadConfig({ ...base, ...env })).toThrow(
        expect.objectContaining({ code: 'input.invalid' }),
      );
    }
  });

  it('shows a generated secret once in the start-up banner and never in the JSON logs', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@sessionkit/source', '--import', 'tsx', 'src/main.ts'],
      {
        cwd: new URL('..', import.meta.url).pathname,
        env: { ...process.env, ...base, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const logs: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => logs.push(line));
    const banner: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the app did not start')), 60_000);
      createInterface({ input: child.stderr }).on('line', (line) => {
        banner.push(line);
        const match = /reference app: (http:\/\/\S+)/.exec(line);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await expect
        .poll(() => banner.some((line) => line.startsWith('Introspection client: ')), { timeout: 30_000 })
        .toBe(true);
      const shown = /^Introspection client: (\S+) \/ (\S+)/.exec(
        banner.find((line) => line.startsWith('Introspection client: ')) ?? '',
      );
      const client = { id: shown?.[1] ?? '', secret: shown?.[2] ?? '' };
      expect(client.id).toBe('reference-resource-server');
      expect(await introspect({ url }, client)).toBe(200);
      // stdout and stderr are separate pipes: the JSON log line may arrive after the banner.
      await expect
        .poll(() => logs.some((line) => line.includes('"clientId":"reference-resource-server"')), {
          timeout: 30_000,
        })
        .toBe(true);
      expect(logs.filter((line) => line.includes(client.secret))).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 120_000);
});
