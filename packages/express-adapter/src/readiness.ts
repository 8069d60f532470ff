import type { HealthCheck, HealthDetails } from '@sessionkit/core';

/** One check's answer, as `/readyz` shows it. */
export interface CheckReport {
  name: string;
  status: 'up' | 'down' | 'timeout';
  required: boolean;
  latencyMs: number;
  /** A failure's code (`store.unavailable`, `ECONNREFUSED`) when it has one; never its message, which may name hosts. */
  error?: string;
  details?: HealthDetails;
}

export class CheckTimeoutError extends Error {
  constructor(name: string, timeoutMs: number) {
    super(`health check ${name} did not answer within ${timeoutMs} ms`);
    this.name = 'CheckTimeoutError';
  }
}

/** Runs one check under its deadline; aborts its signal once the deadline passes, so it can give up its I/O. */
export async function runCheck(
  check: HealthCheck,
  defaultTimeoutMs: number,
  onFailure: (name: string, error: unknown) => void,
): Promise<CheckReport> {
  const timeoutMs = check.timeoutMs ?? defaultTimeoutMs;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = new CheckTimeoutError(check.name, timeoutMs);
      abort.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const started = performance.now();
  const base = { name: check.name, required: check.optional !== true };
  try {
    // A check that throws synchronously is as down as one that rejects.
    const details = await Promise.race([Promise.resolve().then(() => check.run(abort.signal)), deadline]);
    return { ...base, status: 'up', latencyMs: elapsed(started), ...(details ? { details } : {}) };
  } catch (error) {
    onFailure(check.name, error);
    const timedOut = error instanceof CheckTimeoutError;
    return {
      ...base,
      status: timedOut ? 'timeout' : 'down',
      latencyMs: elapsed(started),
      ...(timedOut ? {} : { error: codeOf(error) }),
    };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function codeOf(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Za-z0-9_.]{1,64}$/.test(code) ? code : 'failed';
}
