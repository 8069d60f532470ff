import { hostname } from 'node:os';
import { hmacSha256, randomToken } from '@sessionkit/core';
import type { AuditSeverity } from './actions.js';
import type { AuditRecord } from './audit-record.js';
import type { AuditSink } from './sink.js';

/** The part of a Node Writable (or pino's SonicBoom destination) that JSON lines need. */
export interface LineStream {
  write(chunk: string): boolean;
  once(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown;
  removeListener(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown;
}

export interface LoggerSinkOptions {
  stream: LineStream;
  name?: string;
  /**
   * `hashed` (default): session ids appear as salted hashes, as logs must never make a session id searchable
   * in the clear. `clear` keeps the records verifiable with `verifyChain()` from the log alone.
   */
  sessionIds?: 'hashed' | 'clear';
  /** Salt for hashed session ids; set it to correlate lines across restarts and instances. */
  sessionIdSalt?: string;
}

/** pino's numeric levels, so the lines sit in a pino pipeline (pino-pretty, transports) unchanged. */
const LEVELS: Record<AuditSeverity, number> = { info: 30, warning: 40, critical: 50 };
const SESSION_ID_DETAILS = ['fromSessionId', 'parentId'] as const;

/** Writes each record as one pino-compatible JSON line; honours the stream's back-pressure. */
export function loggerSink(options: LoggerSinkOptions): AuditSink {
  const { stream } = options;
  const salt = options.sessionIdSalt ?? randomToken(32);
  const base = { pid: process.pid, hostname: hostname() };
  const hide = (id: string) => `h:${hmacSha256(salt, id).slice(0, 22)}`;

  const shape = (record: AuditRecord): AuditRecord => {
    if (options.sessionIds === 'clear') return record;
    const details = { ...record.details };
    for (const key of SESSION_ID_DETAILS) {
      const value = details[key];
      if (typeof value === 'string') details[key] = hide(value);
    }
    return {
      ...record,
      ...(record.sessionId === undefined ? {} : { sessionId: hide(record.sessionId) }),
      details,
    };
  };

  return {
    name: options.name ?? 'logger',
    async write(records) {
      const lines = records
        .map((record) =>
          JSON.stringify({
            level: LEVELS[record.severity],
            time: record.at,
            ...base,
            msg: record.action,
            audit: shape(record),
          }),
        )
        .join('\n');
      if (stream.write(`${lines}\n`)) return;
      await new Promise<void>((resolve, reject) => {
        const settle = (error?: unknown) => {
          stream.removeListener('drain', onDrain);
          stream.removeListener('error', onError);
          stream.removeListener('close', onClose);
          if (error === undefined) resolve();
          else reject(error);
        };
        const onDrain = () => settle();
        const onError = (error: unknown) => settle(error ?? new Error('log stream failed'));
        const onClose = () => settle(new Error('log stream closed'));
        stream.once('drain', onDrain);
        stream.once('error', onError);
        stream.once('close', onClose);
      });
    },
  };
}
