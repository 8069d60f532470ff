import type { Express } from 'express';

export interface StartedVariant {
  app: Express;
  /** Headers every load request carries (a bearer token, for instance). */
  headers: Record<string, string>;
  /** A request the orchestrator makes once to obtain a cookie the load then replays. */
  login?: { method: 'POST'; path: string };
  close(): Promise<void>;
}

/** One server configuration under test; started inside its own process, pinned to its own core. */
export interface Variant {
  name: string;
  start(redisUrl: string, databaseUrl: string): Promise<StartedVariant>;
}
