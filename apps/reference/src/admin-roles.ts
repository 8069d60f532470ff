import type { RolesResolver } from '@sessionkit/express';
import type { UserDirectory } from './user-directory.js';

/**
 * Who holds the `admin` role: the accounts named in `ADMIN_EMAILS`. Looked up on each admin request rather
 * than stored in the session at login, so removing an address takes effect on the next request.
 */
export function adminRoles(users: UserDirectory, emails: readonly string[]): RolesResolver {
  const admins = new Set(emails.map((email) => email.trim().toLowerCase()));
  return async (session) => {
    const user = await users.findById(session.userId);
    return user && admins.has(user.email) ? ['admin'] : [];
  };
}
