import { StoreCorruptError } from '@sessionkit/core';
import type { Redis } from 'ioredis';
import { DeadlineWatch } from './deadline-watch.js';
import type { ProfileStore, VersionedProfile } from './profile-store.js';
import type { SecurityProfile } from './security-profile.js';
import { securityProfileSchema } from './security-profile.js';

/** Compare-and-set on a hash {v: version, p: profile JSON}. */
const PUT_LUA = `
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', version + 1, 'p', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

const COMMAND = 'sessionkitProfilePut';

interface PutCommand {
  [COMMAND](key: string, expectedVersion: number, profile: string, ttlMs: number): Promise<number>;
}

export interface RedisProfileStoreOptions {
  redis: Redis;
  prefix?: string;
  /** A profile untouched this long is forgotten (the user is then learned afresh). */
  ttlMs?: number;
  timeoutMs?: number;
}

export class RedisProfileStore implements ProfileStore {
  readonly #redis: Redis & PutCommand;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #deadlines: DeadlineWatch;

  constructor(options: RedisProfileStoreOptions) {
    options.redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: PUT_LUA });
    this.#redis = options.redis as Redis & PutCommand;
    this.#prefix = `${options.prefix ?? 'sk:'}pf:`;
    this.#ttlMs = options.ttlMs ?? 90 * 24 * 3_600_000;
    this.#deadlines = new DeadlineWatch(options.timeoutMs ?? 250, 'security profile store');
  }

  async get(userId: string): Promise<VersionedProfile | undefined> {
    const [version, raw] = await this.#deadlines.track(this.#redis.hmget(this.#key(userId), 'v', 'p'));
    if (!version || !raw) return undefined;
    return { version: Number(version), profile: parseProfile(raw) };
  }

  async put(userId: string, profile: SecurityProfile, expectedVersion: number): Promise<boolean> {
    const written = await this.#deadlines.track(
      this.#redis[COMMAND](this.#key(userId), expectedVersion, JSON.stringify(profile), this.#ttlMs),
    );
    return written === 1;
  }

  #key(userId: string): string {
    return `${this.#prefix}{${userId}}`;
  }
}

export function parseProfile(raw: string): SecurityProfile {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (cause) {
    throw new StoreCorruptError('Stored security profile is not valid JSON', { cause });
  }
  const parsed = securityProfileSchema.safeParse(value);
  if (!parsed.success)
    throw new StoreCorruptError('Stored security profile does not match the schema', { cause: parsed.error });
  return parsed.data;
}
