import { DBSC_METADATA_KEY } from './dbsc-binding.js';
import type { JsonValue, SessionRecord } from './session-record.js';
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
  /** Bound to a key in this device's secure hardware (Device Bound Session Credentials). */
  deviceBound?: true;
}

/**
 * Built field by field rather than by rest-destructuring: it runs on every validation, and a new record field
 * must be added here on purpose (the view is an allow-list, so a secret added to the record never leaks).
 */
export function toView(record: SessionRecord): SessionView {
  const view: SessionView = {
    id: record.id,
    userId: record.userId,
    state: record.state,
    createdAt: record.createdAt,
    lastSeenAt: record.lastSeenAt,
    idleExpiresAt: record.idleExpiresAt,
    absoluteExpiresAt: record.absoluteExpiresAt,
    aal: record.aal,
    authenticatedAt: record.authenticatedAt,
    device: publicDevice(record.device),
    metadata: publicMetadata(record.metadata),
  };
  if (record.tenantId !== undefined) view.tenantId = record.tenantId;
  if (record.parentId !== undefined) view.parentId = record.parentId;
  if (record.revokedAt !== undefined) view.revokedAt = record.revokedAt;
  if (record.revokeReason !== undefined) view.revokeReason = record.revokeReason;
  if (record.metadata[DBSC_METADATA_KEY] !== undefined) view.deviceBound = true;
  return view;
}

function publicDevice(device: SessionRecord['device']): SessionView['device'] {
  const view: SessionView['device'] = {};
  if (device.label !== undefined) view.label = device.label;
  if (device.userAgent !== undefined) view.userAgent = device.userAgent;
  if (device.fingerprint !== undefined) view.fingerprint = { ...device.fingerprint };
  if (device.lastIpHash !== undefined) view.lastIpHash = device.lastIpHash;
  return view;
}

function publicMetadata(metadata: SessionRecord['metadata']): SessionView['metadata'] {
  const view: SessionView['metadata'] = {};
  for (const key of Object.keys(metadata)) {
    if (!key.startsWith(RESERVED_METADATA_PREFIX)) view[key] = metadata[key] as JsonValue;
  }
  return view;
}
