import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { assertPackagesBuilt, CHILD_NODE_ARGS, firstJsonLine, stop } from './process-runner.js';

export interface AppProcess {
  child: ChildProcess;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts app-server.ts in its own Node process with `env` added, and waits until it listens. */
export async function startApp(env: Record<string, string>, nodeArgs: string[] = []): Promise<AppProcess> {
  assertPackagesBuilt();
  const child = spawn(process.execPath, [...nodeArgs, ...CHILD_NODE_ARGS, 'src/app-server.ts'], {
    cwd: new URL('..', import.meta.url).pathname,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await firstJsonLine<{ port: number; pid: number }>(child, 60_000);
  return { child, url: `http://127.0.0.1:${ready.port}`, pid: ready.pid, stop: () => stop(child) };
}

/** JSON POST with a deadline; answers status and parsed body (or text). */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 5000,
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, body: json, contentType: response.headers.get('content-type') ?? '' };
}
