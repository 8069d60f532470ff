import type { Logger } from 'pino';
import type { AppDatabase } from './app-database.js';
import type { AppConfig } from './config.js';
import { openInfrastructure, tablesOf } from './infrastructure.js';
import { resolveKeyEncryptionKeys } from './key-encryption-key.js';
import { resealStoredSecrets } from './reseal-stored-secrets.js';
import { SecretVault } from './secret-vault.js';

/**
 * Adds the next data key and re-seals every stored secret under it (`pnpm rotate-data-key`). Instances already
 * running on PostgreSQL pick the new key up when they next meet it or reload; PGlite must be stopped first.
 */
export async function rotateDataKey(
  config: AppConfig,
  logger: Logger,
): Promise<{ generation: number; resealed: number }> {
  const keks = resolveKeyEncryptionKeys(config);
  const infra = await openInfrastructure(config, logger);
  try {
    const sql = tablesOf<AppDatabase>(infra.sql);
    const vault = await SecretVault.load(sql, keks);
    const generation = await vault.rotateDataKey();
    const resealed = await resealStoredSecrets(sql, vault);
    logger.info({ generation, resealed }, 'data key rotated');
    return { generation, resealed };
  } finally {
    await infra.close();
  }
}
