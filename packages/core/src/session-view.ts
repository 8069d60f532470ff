import type { SessionRecord } from './session-record.js';
import { RESERVED_METADATA_PREFIX } from './session-record.js';

/**
 * What may leave the engine: the record without its secret hash, refresh state or transfer code.
 * APIs answer with it and events carry it.
 */
export interface SessionView {
  id: string;
  userId: string;
  tenantId?: string;
  state: SessionRecord['state'];
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  aal: SessionRecord['aal'];
  authenticatedAt: number;
  device: { label?: string; userAgent?: string; fingerprint?: Record<string, string>; lastIpHash?: string };
  parentId?: string;
  revokedAt?: number;
  revokeReason?: string;
  metadata: SessionRecord['metadata'];
}

export function toView(record: SessionRecord): SessionView {
  const {
    secretHash: _secret,
    refresh: _refresh,
    transfer: _transfer,
    version: _version,
    device,
    ...rest
  } = record;
  const { firstIpHash: _first, ...publicDevice } = device;
  const metadata = Object.fromEntries(
    Object.entries(rest.metadata).filter(([key]) => !key.startsWith(RESERVED_METADATA_PREFIX)),
  );
  return { ...rest, device: publicDevice, metadata };
}
