/** One answer seen by the load: when it was sent and answered (ms since the load started), and what it was. */
export interface Observation {
  sentAt: number;
  answeredAt: number;
  status: number;
  problem: boolean;
}

/**
 * `callers` loops, each sending one request at a time (its own token in turn) until `stop()`, every request
 * bounded by `timeoutMs` (a timeout is recorded as status 0). Used to watch an app while a backend fails.
 */
export function steadyLoad(options: {
  url: string;
  /** Presented in turn as bearer tokens; none when empty. */
  tokens: string[];
  callers: number;
  timeoutMs: number;
  method?: 'GET' | 'POST';
  body?: () => unknown;
  pauseMs?: number;
}) {
  const started = performance.now();
  const observations: Observation[] = [];
  let running = true;
  let turn = 0;
  const loop = async () => {
    while (running) {
      const token = options.tokens[turn % options.tokens.length];
      turn += 1;
      const sentAt = performance.now() - started;
      let status = 0;
      let problem = false;
      try {
        const response = await fetch(options.url, {
          method: options.method ?? 'GET',
          headers: {
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
            ...(options.body ? { 'content-type': 'application/json' } : {}),
          },
          ...(options.body ? { body: JSON.stringify(options.body()) } : {}),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        await response.arrayBuffer();
        status = response.status;
        problem = (response.headers.get('content-type') ?? '').startsWith('application/problem+json');
      } catch {
        status = 0;
      }
      observations.push({ sentAt, answeredAt: performance.now() - started, status, problem });
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const loops = Array.from({ length: options.callers }, loop);
  return {
    now: () => performance.now() - started,
    observations,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
