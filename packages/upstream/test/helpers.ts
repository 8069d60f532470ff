import { SessionKitError } from '@sessionkit/core';

/** The stable code a promise fails with ('resolved' if it does not): tests assert on codes, never on messages. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`;
  }
}
