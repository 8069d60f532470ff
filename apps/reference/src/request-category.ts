import type { Request } from 'express';

/** The activity trail's coarse label for a request of the reference app, from the route that answered it. */
export function requestCategory(_req: Request, route: string): string {
  if (route.startsWith('/api/auth') || route.startsWith('/auth/')) return 'auth';
  if (route.startsWith('/api/admin')) return 'admin';
  if (route.startsWith('/api/transfer')) return 'transfer';
  if (route.startsWith('/api/me')) return 'account';
  return 'other';
}
