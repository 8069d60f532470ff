import { StoreCorruptError } from '@sessionkit/core';
import type { InvalidationListener, InvalidationMessage } from '@sessionkit/core/store';
import { z } from 'zod';

/** Default NOTIFY channel; unquoted identifiers are folded to lower case, so we only accept lower case. */
export const DEFAULT_CHANNEL = 'sessionkit_invalidation';
export const channelSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier');

/**
 * The channel of the store in `schema`: `<schema>_invalidation` (`sessionkit_invalidation` for the default
 * schema), so stores in two schemas of one database never hear each other's invalidations.
 */
export function channelForSchema(schema: string | undefined): string {
  return schema === undefined ? DEFAULT_CHANNEL : `${schema}_invalidation`;
}

const messageSchema = z.object({
  sessionId: z.string().min(1).max(64),
  kind: z.enum(['revoked', 'changed']),
  expiresAt: z.number().int().nonnegative(),
  authenticatedAt: z.number().int().nonnegative().optional(),
  // Optional: instances of earlier versions send none, and a rolling upgrade has both kinds talking.
  sentAt: z.number().int().nonnegative().optional(),
});

export function encodeMessage(message: InvalidationMessage): string {
  return JSON.stringify(messageSchema.parse(message));
}

/** NOTIFY payloads come from anyone who can reach the database: parse them as untrusted input. */
export function decodeMessage(payload: string): InvalidationMessage {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch (cause) {
    throw new StoreCorruptError('Invalidation payload is not JSON', { cause });
  }
  const result = messageSchema.safeParse(value);
  if (!result.success) throw new StoreCorruptError('Invalidation payload does not match the schema');
  return result.data;
}

/**
 * Delivers a payload to every listener. A bad payload or a throwing listener is reported, never thrown: it
 * must not silence the other listeners nor the connection that carried it.
 */
export function dispatch(
  payload: string,
  listeners: Iterable<InvalidationListener>,
  onError: (error: unknown) => void,
): void {
  let message: InvalidationMessage;
  try {
    message = decodeMessage(payload);
  } catch (error) {
    onError(error);
    return;
  }
  for (const listener of listeners) {
    try {
      listener(message);
    } catch (error) {
      onError(error);
    }
  }
}
