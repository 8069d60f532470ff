import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ReferenceProcess {
  url: string;
  child: ChildProcess;
  /** Every JSON line the app wrote to stdout so far (its pino log and the audit logger sink). */
  logs: Record<string, unknown>[];
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `src/main.ts` as `pnpm start` does, with this environment added, and waits for its banner. */
export async function startReferenceProcess(env: Record<string, string>): Promise<ReferenceProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=@sessionkit/source', '--import', 'tsx', 'src/main.ts'],
    {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, PORT: '0', COOKIE_SECURE: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the app did not start')), 90_000);
    child.once('exit', (code) => reject(new Error(`the app exited with ${code} before starting`)));
    createInterface({ input: child.stderr }).on('line', (line) => {
      const match = /reference app: (http:\/\/\S+)/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    url,
    child,
    logs,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
