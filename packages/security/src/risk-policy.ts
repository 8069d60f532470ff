import { parseInput } from '@sessionkit/core';
import { z } from 'zod';
import { similarityOptionsSchema } from './fingerprint-similarity.js';

const MINUTE = 60_000;
const weight = (value: number) => z.number().min(0).max(1).default(value);

export const riskSignals = [
  'network.new',
  'asn.new',
  'country.new',
  'device.changed',
  'device.missing',
  'device.unparseable',
  'travel.impossible',
  'hour.unusual',
  'failures.burst',
  'token.reuse',
] as const;
export type RiskSignalName = (typeof riskSignals)[number];

/**
 * Each signal has a weight in [0, 1]; signals combine as independent evidence (noisy-OR:
 * `1 − Π(1 − weight)`), so the score stays in [0, 1], grows with every signal, and one strong signal
 * counts as much as several weak ones. Bands map the score to an action.
 */
export const riskPolicySchema = z
  .object({
    weights: z
      .object({
        'network.new': weight(0.25),
        'asn.new': weight(0.3),
        'country.new': weight(0.4),
        'device.changed': weight(0.6),
        /** The session recorded a browser; the request sends no User-Agent. Unset: as `device.changed`. */
        'device.missing': z.number().min(0).max(1).optional(),
        /** The session recorded a browser; the request's User-Agent names none, nor an OS. Unset: as `device.changed`. */
        'device.unparseable': z.number().min(0).max(1).optional(),
        'travel.impossible': weight(0.8),
        'hour.unusual': weight(0.15),
        'failures.burst': weight(0.3),
        'token.reuse': weight(0.9),
      })
      .strict()
      .prefault({})
      // A cookie replayed with its headers stripped or garbled is at least a changed device.
      .transform((weights) => ({
        ...weights,
        'device.missing': weights['device.missing'] ?? weights['device.changed'],
        'device.unparseable': weights['device.unparseable'] ?? weights['device.changed'],
      })),
    /** Lowest score of each band; below `flag` is `allow`. */
    bands: z
      .object({ flag: weight(0.3), stepUp: weight(0.55), revoke: weight(0.8) })
      .strict()
      .prefault({})
      .refine((bands) => bands.flag <= bands.stepUp && bands.stepUp <= bands.revoke, {
        message: 'bands must rise: flag <= stepUp <= revoke',
      }),
    fingerprint: similarityOptionsSchema.prefault({}),
    ipv4PrefixBits: z.number().int().min(8).max(32).default(24),
    ipv6PrefixBits: z.number().int().min(16).max(128).default(48),
    /** Faster than an airliner between two located requests is not a person travelling. */
    impossibleTravelKmh: z.number().positive().default(900),
    /** Distances below this are geolocation noise, never travel. */
    minTravelKm: z.number().nonnegative().default(300),
    unusualHour: z
      .object({
        /** Hours of history needed before the hour of day says anything. */
        minSamples: z.number().int().positive().default(20),
        /** An hour holding less than this share of the user's history is unusual. */
        maxShare: z.number().min(0).max(1).default(0.02),
      })
      .strict()
      .prefault({}),
    failureBurst: z
      .object({
        count: z.number().int().positive().default(5),
        windowMs: z
          .number()
          .int()
          .positive()
          .default(15 * MINUTE),
      })
      .strict()
      .prefault({}),
    tokenReuseWindowMs: z
      .number()
      .int()
      .positive()
      .default(24 * 60 * MINUTE),
  })
  .strict();

export type RiskPolicyInput = z.input<typeof riskPolicySchema>;
export type RiskPolicy = z.output<typeof riskPolicySchema>;

export function parseRiskPolicy(input: unknown): RiskPolicy {
  return parseInput(riskPolicySchema, input, 'risk policy');
}
