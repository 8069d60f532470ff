import type { Clock } from '@sessionkit/core';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AppDatabase } from './app-database.js';
import type { AppConfig } from './config.js';
import type { Infrastructure } from './infrastructure.js';
import type { KeyEncryptionKeys } from './key-encryption-key.js';
import { resealStoredSecrets } from './reseal-stored-secrets.js';
import { SecretVault } from './secret-vault.js';
import { SigningKeySchedule } from './signing-key-schedule.js';

const DAY_MS = 86_400_000;

/**
 * The secret vault and the signing-key schedule, ready: data keys re-wrapped under the current KEK, values
 * still in clear or under an older data key re-sealed. A failure (e.g. a KEK that unwraps no data key) closes
 * the infrastructure and refuses to start with a SecretsAtRestError code.
 */
export async function openSecrets(input: {
  keks: KeyEncryptionKeys;
  config: AppConfig;
  sql: Kysely<AppDatabase>;
  clock: Clock;
  logger: Logger;
  infra: Infrastructure;
}): Promise<{ vault: SecretVault; signingKeys: SigningKeySchedule }> {
  const { config, sql, clock, logger } = input;
  if (input.keks.generatedIn !== undefined) {
    // The key itself goes to the operator's console only (main.ts), never into the JSON log stream.
    logger.warn(
      { file: input.keks.generatedIn },
      'generated the key-encryption key of the embedded database; in production, move it to SESSIONKIT_KEK',
    );
  }
  try {
    const vault = await SecretVault.load(sql, input.keks);
    const resealed = await resealStoredSecrets(sql, vault);
    if (resealed > 0) logger.info({ resealed, dataKey: vault.currentDataKey }, 'stored secrets re-sealed');
    const signingKeys = await SigningKeySchedule.start({
      db: sql,
      vault,
      clock,
      issuer: 'sessionkit-reference',
      rotationPeriodMs: config.SIGNING_KEY_ROTATION_DAYS * DAY_MS,
      onError: (error) => logger.warn({ err: error }, 'signing key schedule failed; retrying'),
    });
    return { vault, signingKeys };
  } catch (error) {
    await input.infra.close();
    throw error;
  }
}
