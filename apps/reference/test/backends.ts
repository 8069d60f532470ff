import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { generateKeyEncryptionKey } from '../src/key-encryption-key.js';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface Backend {
  name: string;
  env: () => Promise<Record<string, string>>;
  cleanup: () => Promise<void>;
}

/** The embedded default (PGlite in a temp dir, in-memory limits) and the server configuration (PostgreSQL + Redis). */
export function embedded(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'sk-reference-'));
  return {
    name: 'embedded (PGlite)',
    env: async () => ({ DATA_DIR: dir }),
    cleanup: async () => {
      rmSync(dir, { recursive: true, force: true });
      // The embedded demo's generated key-encryption key, kept beside the data directory.
      rmSync(`${dir}.kek`, { force: true });
    },
  };
}

export function servers(): Backend {
  const database = `sk_reference_${process.pid}_${Date.now()}`;
  return {
    name: 'PostgreSQL + Redis',
    env: async () => {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`create database ${database}`);
      await admin.end();
      return {
        DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
        REDIS_URL: 'redis://127.0.0.1:6379',
        // Rate limits and lockouts count per IP and account: another run of the suite must not add to ours.
        REDIS_PREFIX: `${database}:`,
        SESSIONKIT_KEK: generateKeyEncryptionKey(),
      };
    },
    cleanup: async () => {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`drop database if exists ${database} with (force)`);
      await admin.end();
    },
  };
}
