import { z } from 'zod';
import type { Clock } from './clock.js';
import type { SessionConfig } from './config.js';
import { SessionKitError, TransferInvalidError } from './errors.js';
import { formatToken, hashSecret, newSecret, parseToken } from './opaque-token.js';
import type { RequestContext } from './request-context.js';
import { requestContextSchema } from './request-context.js';
import type { IssuedTokens, SessionIssuer } from './session-issuer.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import { assertUsable } from './session-lifecycle.js';
import type { Aal, SessionRecord } from './session-record.js';
import { isLive } from './session-record.js';
import { toView } from './session-view.js';
import { digestsEqual } from './token-crypto.js';
import { parseInput } from './zod-input.js';

export type TransferMode = 'takeover' | 'fork';

export interface RedeemTransferOptions {
  context?: RequestContext;
  reverifiedAal?: Aal;
  deviceLabel?: string;
}

/**
 * Moving a session to another device with a one-time code: `takeover` ends the source session, `fork` leaves it
 * and creates a sibling. Only one code is outstanding per session.
 */
export class SessionTransfer {
  readonly #config: SessionConfig;
  readonly #clock: Clock;
  readonly #lifecycle: SessionLifecycle;
  readonly #issuer: SessionIssuer;

  constructor(options: {
    config: SessionConfig;
    clock: Clock;
    lifecycle: SessionLifecycle;
    issuer: SessionIssuer;
  }) {
    this.#config = options.config;
    this.#clock = options.clock;
    this.#lifecycle = options.lifecycle;
    this.#issuer = options.issuer;
  }

  async createCode(
    sessionId: string,
    options: { mode: TransferMode },
  ): Promise<{ code: string; expiresAt: number }> {
    const mode = parseInput(z.enum(['takeover', 'fork']), options.mode, 'transfer mode');
    const secret = newSecret();
    const now = this.#clock.now();
    const transferExpiresAt = now + this.#config.transfer.ttlMs;
    await this.#lifecycle.mutate(sessionId, (record) => {
      assertUsable(record, now);
      return { ...record, transfer: { codeHash: hashSecret(secret), expiresAt: transferExpiresAt, mode } };
    });
    return { code: formatToken('transfer', sessionId, secret), expiresAt: transferExpiresAt };
  }

  async redeem(code: unknown, options: RedeemTransferOptions): Promise<IssuedTokens> {
    const context = parseInput(requestContextSchema, options.context ?? {}, 'request context');
    let parsed: { sessionId: string; secret: string };
    try {
      parsed = parseToken(code, 'transfer');
    } catch {
      throw new TransferInvalidError();
    }
    const now = this.#clock.now();
    let mode: TransferMode = 'takeover';
    let source: SessionRecord;
    try {
      // One attempt only: a concurrent redeemer that wins the compare-and-set consumes the code.
      source = await this.#lifecycle.mutate(
        parsed.sessionId,
        (record) => {
          const transfer = record.transfer;
          if (
            !transfer ||
            transfer.expiresAt <= now ||
            record.state !== 'active' ||
            !isLive(record, now) ||
            !digestsEqual(transfer.codeHash, hashSecret(parsed.secret))
          ) {
            throw new TransferInvalidError();
          }
          mode = transfer.mode;
          const { transfer: _used, ...rest } = record;
          return rest;
        },
        1,
      );
    } catch (error) {
      if (error instanceof SessionKitError && error.code !== 'store.unavailable')
        throw new TransferInvalidError();
      throw error;
    }
    if (mode === 'takeover') {
      await this.#lifecycle.revokeTree(
        source.id,
        'transferred',
        'user',
        this.#lifecycle.eventContext(context),
      );
    }
    const aal = options.reverifiedAal ?? 1;
    const issued = await this.#issuer.create({
      userId: source.userId,
      ...(source.tenantId === undefined ? {} : { tenantId: source.tenantId }),
      aal,
      authenticatedAt: options.reverifiedAal === undefined ? source.authenticatedAt : now,
      ...(source.parentId === undefined ? {} : { parentId: source.parentId }),
      ...(options.deviceLabel === undefined ? {} : { deviceLabel: options.deviceLabel }),
      // Engine-owned state (e.g. sealed upstream tokens, bound to the old session's id) does not move.
      metadata: toView(source).metadata,
      context,
    });
    this.#lifecycle.emit({
      type: 'session.transferred',
      at: now,
      context: this.#lifecycle.eventContext(context),
      session: issued.session,
      fromSessionId: source.id,
      mode,
    });
    return issued;
  }
}
