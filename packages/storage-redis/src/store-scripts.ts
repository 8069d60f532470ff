import { StoreCorruptError } from '@sessionkit/core';
import { REUSE_REVOKE_REASON } from '@sessionkit/core/store';
import { z } from 'zod';
import { LuaScript } from './lua-script.js';
import {
  CREATE_SCRIPT,
  LIST_SCRIPT,
  REVOKE_IDS_SCRIPT,
  REVOKE_USER_SCRIPT,
  ROTATE_SCRIPT,
  UPDATE_SCRIPT,
} from './lua-scripts.js';
import { encodeText } from './record-encoding.js';
import type { RotateInput } from './store-inputs.js';

/** The Lua scripts (lua-scripts.ts) the store runs. */
export const scripts = {
  create: new LuaScript(CREATE_SCRIPT),
  update: new LuaScript(UPDATE_SCRIPT),
  rotate: new LuaScript(ROTATE_SCRIPT),
  revokeIds: new LuaScript(REVOKE_IDS_SCRIPT),
  revokeUser: new LuaScript(REVOKE_USER_SCRIPT),
  list: new LuaScript(LIST_SCRIPT),
};

/** ROTATE_SCRIPT's ARGV, in its order. */
export function rotateArguments(recordPrefix: string, rotation: RotateInput): (string | number)[] {
  return [
    recordPrefix,
    rotation.sessionId,
    rotation.now,
    rotation.presentedHash,
    rotation.successorHash,
    rotation.sealedSuccessor,
    rotation.graceMs,
    rotation.idleExpiresAt,
    encodeText(REUSE_REVOKE_REASON),
    rotation.presentedGeneration ?? '',
    rotation.presentedJkt ?? '',
  ];
}

const recordEntry = z.tuple([z.string(), z.string()]);

/** What each script answers; a reply of any other shape is `store.corrupt`. */
export const replies = {
  create: z.union([z.tuple([z.enum(['exists', 'limit'])]), z.tuple([z.literal('ok'), z.array(recordEntry)])]),
  update: z.union([
    z.tuple([z.enum(['missing', 'revoked', 'conflict'])]),
    z.tuple([z.literal('ok'), z.string(), z.string()]),
  ]),
  rotate: z.union([
    z.tuple([z.literal('unknown')]),
    z.tuple([z.enum(['rotated', 'grace', 'reused', 'inactive', 'key-mismatch']), z.string()]),
  ]),
  revokeIds: z.array(z.tuple([z.string(), z.number(), z.string()])),
  recordList: z.array(recordEntry),
};

export function parseReply<S extends z.ZodType>(schema: S, reply: unknown): z.output<S> {
  const result = schema.safeParse(reply);
  if (!result.success) throw new StoreCorruptError('A store script answered in an unexpected shape');
  return result.data;
}
