import { parseInput } from '@sessionkit/core';
import { z } from 'zod';
import type { FingerprintComponents } from './device-fingerprint.js';

/**
 * How much each component says about "same device". A client-kept id is near-proof; OS and device type
 * rarely change on one device; versions change on every update and weigh little.
 */
export const defaultComponentWeights: Readonly<Record<string, number>> = {
  clientId: 6,
  os: 3,
  deviceType: 2,
  deviceModel: 2,
  browser: 2,
  'ch.platform': 2,
  'ch.mobile': 1,
  'ch.model': 1.5,
  timezone: 1.5,
  platform: 1.5,
  engine: 1,
  languages: 1,
  screen: 1,
  'ch.arch': 0.5,
  browserMajor: 0.5,
  osVersion: 0.5,
  'ch.platformVersion': 0.25,
};

export const similarityOptionsSchema = z
  .object({
    weights: z.record(z.string().max(64), z.number().min(0).max(100)).default({}),
    /** At or above this score the two fingerprints are taken to be the same device. */
    threshold: z.number().min(0).max(1).default(0.7),
  })
  .strict();
export type SimilarityOptions = z.input<typeof similarityOptionsSchema>;

export interface FingerprintComparison {
  /** Weighted share of compared components that match, 0.0–1.0. */
  score: number;
  sameDevice: boolean;
  /** Present on both sides with different values. */
  changed: string[];
  /** Known before, missing now: counted as changed, or stripping headers would hide a new device. */
  missing: string[];
  /** False when nothing was known about the device: there was nothing to judge. */
  comparable: boolean;
}

/**
 * Compares a known fingerprint with the current one. Components only the current side has are ignored (a
 * page that starts sending client hints is not a new device); components the known side had and the current
 * lacks count as mismatches.
 */
export function compareFingerprints(
  known: FingerprintComponents,
  current: FingerprintComponents,
  options: SimilarityOptions = {},
): FingerprintComparison {
  const { weights, threshold } = parseInput(similarityOptionsSchema, options, 'similarity options');
  let total = 0;
  let matched = 0;
  const changed: string[] = [];
  const missing: string[] = [];
  for (const [name, value] of Object.entries(known)) {
    const weight = weights[name] ?? defaultComponentWeights[name] ?? 1;
    if (weight === 0) continue;
    total += weight;
    const now = current[name];
    if (now === undefined) missing.push(name);
    else if (now === value) matched += weight;
    else changed.push(name);
  }
  if (total === 0) return { score: 1, sameDevice: true, changed, missing, comparable: false };
  const score = Math.round((matched / total) * 1000) / 1000;
  return { score, sameDevice: score >= threshold, changed, missing, comparable: true };
}
