export interface BackoffOptions {
  /** Attempts in total, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Uniform in [0, 1); injected so tests can pin the jitter. */
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  isRetryable: (error: unknown) => boolean;
  /** Asked before each wait; returning false gives up early (e.g. a lease would run out during the wait). */
  mayWait?: (delayMs: number) => boolean;
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

/**
 * "Full jitter" (AWS Architecture Blog, Exponential Backoff and Jitter): a uniform delay in
 * [0, min(max, base * 2^n)), which spreads a herd of retrying instances better than fixed exponential steps.
 */
export function fullJitterDelay(
  retry: number,
  options: Pick<BackoffOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>,
) {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry);
  return Math.floor(options.random() * cap);
}

export async function retryWithBackoff<T>(operation: () => Promise<T>, options: BackoffOptions): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= options.attempts || !options.isRetryable(error)) throw error;
      const delay = fullJitterDelay(attempt - 1, options);
      if (options.mayWait && !options.mayWait(delay)) throw error;
      options.onRetry?.(attempt, delay, error);
      await options.sleep(delay);
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
