import type { ActivityEntry, ActivitySource, SessionView } from '@sessionkit/core';
import { parseInput, SessionNotFoundError } from '@sessionkit/core';
import { isInUse } from '@sessionkit/core/store';
import type { Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { asyncHandler } from './async-handler.js';
import { clearSessionCookie } from './cookies.js';
import { storeBackedSession } from './guards.js';
import { noStore } from './no-store.js';
import { requestContext } from './request-context.js';
import { stateOf } from './request-state.js';

export interface SelfServiceOptions {
  /** Serves `GET /activity` from it (e.g. @sessionkit/audit's reader). Without it that route does not exist. */
  activity?: ActivitySource;
}

export type SessionListing = SessionView & {
  current: boolean;
  /** The session's newest recorded request, when the activity source keeps request activity. */
  lastActivity?: ActivityEntry;
};

const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;
const activityQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  // Exact: a query string never carries an explicit undefined, and `listActivity` takes none.
  cursor: z.string().min(1).max(512).exactOptional(),
});

/**
 * "Your devices" for the signed-in user, to mount under e.g. `/api/me`:
 * `GET /sessions`, `GET /sessions/current`, `DELETE /sessions/:id`, `POST /sessions/revoke-others`,
 * and `GET /activity` when an activity source is given. Every route validates against the store, so a
 * session revoked elsewhere loses access on its next request.
 */
export function selfServiceRouter(options: SelfServiceOptions = {}): Router {
  const router = express.Router();
  // Device lists and activity are personal: no shared cache may keep them.
  router.use((_req, res, next) => {
    noStore(res);
    next();
  });

  router.get(
    '/sessions',
    asyncHandler(async (req, res) => {
      const me = await storeBackedSession(req, res);
      const sessions = await stateOf(req).manager.list(
        me.userId,
        me.tenantId === undefined ? {} : { tenantId: me.tenantId },
      );
      const live = sessions.filter((session) => isInUse(session.state));
      const last = await options.activity?.lastRequests?.(
        me.userId,
        live.map((session) => session.id),
      );
      const listing: SessionListing[] = live.map((session) => {
        const lastActivity = last?.get(session.id);
        return {
          ...session,
          current: session.id === me.sessionId,
          ...(lastActivity === undefined ? {} : { lastActivity }),
        };
      });
      res.json(listing);
    }),
  );

  router.get(
    '/sessions/current',
    asyncHandler(async (req, res) => {
      const me = await storeBackedSession(req, res);
      const view = me.session ?? (await stateOf(req).manager.get(me.sessionId));
      if (!view) throw new SessionNotFoundError();
      res.json({ session: { ...view, current: true } satisfies SessionListing });
    }),
  );

  router.post(
    '/sessions/revoke-others',
    asyncHandler(async (req, res) => {
      const me = await storeBackedSession(req, res);
      const revoked = await stateOf(req).manager.revokeAllForUser(me.userId, {
        exceptId: me.sessionId,
        reason: 'revoked.others',
        by: 'user',
        context: requestContext(req),
        ...(me.tenantId === undefined ? {} : { tenantId: me.tenantId }),
      });
      res.json({ revoked });
    }),
  );

  router.delete(
    '/sessions/:id',
    asyncHandler(async (req, res) => {
      const me = await storeBackedSession(req, res);
      const state = stateOf(req);
      const raw: unknown = req.params.id;
      const id = typeof raw === 'string' ? raw : '';
      // Not found, malformed and someone else's all answer alike, so ids cannot be probed.
      const target = SESSION_ID.test(id) ? await state.manager.get(id) : undefined;
      if (!target || target.userId !== me.userId || target.tenantId !== me.tenantId)
        throw new SessionNotFoundError();
      await state.manager.revoke(id, {
        reason: 'revoked.self_service',
        by: 'user',
        context: requestContext(req),
      });
      if (id === me.sessionId && req.sessionkit?.transport === 'cookie')
        clearSessionCookie(res, state.cookies);
      res.status(204).end();
    }),
  );

  const activity = options.activity;
  if (activity) {
    router.get(
      '/activity',
      asyncHandler(async (req, res) => {
        const me = await storeBackedSession(req, res);
        const query = parseInput(activityQuery, req.query, 'activity query');
        const page = await activity.listActivity(me.userId, query);
        res.json(page);
      }),
    );
  }

  return router;
}
