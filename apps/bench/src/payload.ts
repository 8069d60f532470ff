/** The route every variant serves: read the session, answer 50 bytes of JSON. */
export const ROUTE = '/api/me/sessions/current';

export function payload(userId: string): string {
  const body = JSON.stringify({ user: userId, ok: true, pad: '' });
  return JSON.stringify({ user: userId, ok: true, pad: 'x'.repeat(Math.max(0, 50 - body.length)) });
}
