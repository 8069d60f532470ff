import { InvalidInputError } from '@sessionkit/core';
import { z } from 'zod';

const cursorSchema = z.object({ at: z.number().int().nonnegative(), pos: z.number().int().nonnegative() });
export type ActivityCursor = z.infer<typeof cursorSchema>;

/** Opaque to callers: the (time, insertion order) of the last entry of the page, base64url JSON. */
export function encodeCursor(cursor: ActivityCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string): ActivityCursor {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidInputError('Invalid activity cursor', [
      { path: 'cursor', message: 'not a cursor we issued' },
    ]);
  }
}
