import { z } from 'zod';
import type { FingerprintComponents } from './device-fingerprint.js';
import type { SimilarityOptions } from './fingerprint-similarity.js';
import { compareFingerprints } from './fingerprint-similarity.js';

const timestamp = z.number().int().nonnegative();
const seen = (value: z.ZodType<string>) => z.object({ value, lastSeen: timestamp });

export const PROFILE_LIMITS = { devices: 10, networks: 20, asns: 10, countries: 10, failures: 50 } as const;

/**
 * What the risk engine knows about one user, shared by every app instance through a profile store.
 * Networks are keyed-hash prefixes (never addresses); devices are fingerprint components.
 */
export const securityProfileSchema = z.object({
  devices: z
    .array(
      z.object({
        components: z.record(z.string().max(64), z.string().max(512)),
        firstSeen: timestamp,
        lastSeen: timestamp,
      }),
    )
    .max(PROFILE_LIMITS.devices),
  networks: z.array(seen(z.string().max(64))).max(PROFILE_LIMITS.networks),
  asns: z.array(seen(z.string().max(32))).max(PROFILE_LIMITS.asns),
  countries: z.array(seen(z.string().max(8))).max(PROFILE_LIMITS.countries),
  /** Activity per UTC hour, counted at most once per hour. */
  hours: z.array(z.number().int().nonnegative()).length(24),
  lastHourMark: z.number().int().nonnegative().default(0),
  lastLocation: z
    .object({
      latitude: z.number().min(-90).max(90),
      longitude: z.number().min(-180).max(180),
      at: timestamp,
    })
    .optional(),
  failures: z.array(timestamp).max(PROFILE_LIMITS.failures),
  tokenReuseAt: timestamp.optional(),
});
export type SecurityProfile = z.infer<typeof securityProfileSchema>;

export function emptyProfile(): SecurityProfile {
  return {
    devices: [],
    networks: [],
    asns: [],
    countries: [],
    hours: Array(24).fill(0),
    lastHourMark: 0,
    failures: [],
  };
}

/** What one allowed request teaches the profile. */
export interface Observation {
  now: number;
  device?: FingerprintComponents;
  networkPrefix?: string;
  asn?: string;
  country?: string;
  location?: { latitude: number; longitude: number };
}

const HOUR = 3_600_000;
const LOCATION_REFRESH_MS = 5 * 60_000;

/**
 * Folds an observation into the profile. Returns undefined when nothing new was learned, so a steady user
 * costs no write: the hour histogram moves once per hour, the location once per five minutes.
 */
export function learn(
  profile: SecurityProfile,
  observation: Observation,
  similarity: SimilarityOptions = {},
) {
  const { now } = observation;
  let changed = false;
  const next: SecurityProfile = structuredClone(profile);
  if (observation.device && Object.keys(observation.device).length > 0) {
    const components = observation.device;
    const known = next.devices.find(
      (device) => compareFingerprints(device.components, components, similarity).sameDevice,
    );
    if (known && now - known.lastSeen < HOUR) {
      // Seen recently: no write needed.
    } else if (known) {
      known.lastSeen = now;
      known.components = components;
      changed = true;
    } else {
      next.devices = keepNewest(
        [...next.devices, { components, firstSeen: now, lastSeen: now }],
        PROFILE_LIMITS.devices,
      );
      changed = true;
    }
  }
  changed = remember(next.networks, observation.networkPrefix, now, PROFILE_LIMITS.networks) || changed;
  changed = remember(next.asns, observation.asn, now, PROFILE_LIMITS.asns) || changed;
  changed = remember(next.countries, observation.country, now, PROFILE_LIMITS.countries) || changed;
  const hourMark = Math.floor(now / HOUR);
  if (hourMark !== next.lastHourMark) {
    const hour = new Date(now).getUTCHours();
    next.hours[hour] = (next.hours[hour] ?? 0) + 1;
    next.lastHourMark = hourMark;
    changed = true;
  }
  if (observation.location) {
    const last = next.lastLocation;
    if (!last || now - last.at >= LOCATION_REFRESH_MS || distanceKm(last, observation.location) > 50) {
      next.lastLocation = { ...observation.location, at: now };
      changed = true;
    }
  }
  return changed ? next : undefined;
}

export function isKnownNetwork(profile: SecurityProfile, prefix: string): boolean {
  return profile.networks.some((network) => network.value === prefix);
}

/** Great-circle distance (haversine) in km. */
export function distanceKm(
  a: { latitude: number; longitude: number },
  b: { latitude: number; longitude: number },
): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function remember(
  list: { value: string; lastSeen: number }[],
  value: string | undefined,
  now: number,
  max: number,
) {
  if (value === undefined) return false;
  const known = list.find((item) => item.value === value);
  if (known) {
    if (now - known.lastSeen < HOUR) return false;
    known.lastSeen = now;
    return true;
  }
  list.push({ value, lastSeen: now });
  const kept = keepNewest(list, max);
  list.splice(0, list.length, ...kept);
  return true;
}

function keepNewest<T extends { lastSeen: number }>(items: T[], max: number): T[] {
  return items.length <= max ? items : [...items].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, max);
}
