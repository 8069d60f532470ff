import type { z } from 'zod';
import { InvalidInputError } from './errors.js';

/** Parses untrusted input with a schema, turning zod issues into one `input.invalid` error naming the fields. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  const fields = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  throw new InvalidInputError(`Invalid ${what}: ${fields}`, issues);
}
