import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { StoreUnavailableError } from '@sessionkit/core';
import { causeText } from './database-errors.js';

/**
 * Opens PGlite in `dataDir` (a directory path, `file://…`, or nothing / `memory://` for in-memory), creating the
 * missing parent directories first: PGlite creates only the last one and otherwise fails with ENOENT, which
 * surfaced much later as a failed migration. Resolves once the database answers; the caller closes it.
 */
export async function openPGlite(dataDir?: string): Promise<PGlite> {
  const path = dataDir?.startsWith('file://') ? dataDir.slice('file://'.length) : dataDir;
  const onDisk = path !== undefined && !path.includes('://');
  try {
    if (onDisk) await mkdir(dirname(path), { recursive: true });
    const pglite = new PGlite(dataDir);
    await pglite.waitReady;
    return pglite;
  } catch (cause) {
    throw new StoreUnavailableError(`Cannot open PGlite in ${dataDir ?? 'memory'}: ${causeText(cause)}`, {
      cause,
    });
  }
}
