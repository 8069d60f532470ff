import type { Response } from 'express';

/** What is answered here depends on who asks or carries a token: no shared or browser cache may keep it. */
export function noStore(res: Response): void {
  res.setHeader('cache-control', 'no-store');
}
