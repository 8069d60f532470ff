/** One line of a user's recent activity, as a self-service "recent activity" view shows it. */
export interface ActivityEntry {
  id: string;
  action: string;
  at: number;
  sessionId?: string;
  outcome: 'success' | 'failure';
  /** Coarse, privacy-preserving description of where from (e.g. "Firefox on Linux, 203.0.113.0/24"). */
  device?: string;
  reason?: string;
  /** Present on the entries the request-activity middleware recorded. */
  request?: Pick<RequestActivity, 'route' | 'method' | 'status' | 'durationMs' | 'category'>;
}

export interface ActivityPage {
  entries: ActivityEntry[];
  /** Pass back to get the next (older) page; absent on the last page. */
  nextCursor?: string;
}

/** Implemented by @sessionkit/audit; the Express self-service router reads it when it is wired. */
export interface ActivitySource {
  listActivity(
    userId: string,
    options: { limit: number; cursor?: string; sessionId?: string },
  ): Promise<ActivityPage>;
  /** Optional: the newest request-activity entry of each of these sessions of the user (absent: none known). */
  lastRequests?(userId: string, sessionIds: readonly string[]): Promise<Map<string, ActivityEntry>>;
}

/** One request a session made, as `@sessionkit/express`'s `requestActivity()` middleware sees it. */
export interface RequestActivity {
  at: number;
  sessionId: string;
  userId: string;
  tenantId?: string;
  requestId?: string;
  /** The route pattern that answered (`/api/me/sessions/:id`), never the raw URL with its ids and query. */
  route: string;
  method: string;
  status: number;
  durationMs: number;
  /** The app's coarse label for the request (`auth`, `account`, `admin`...). */
  category: string;
}

/** Where request activity goes; @sessionkit/audit's `requestActivityRecorder` writes it to the audit trail. */
export interface RequestActivityRecorder {
  /** Must not throw or wait: it runs after the answer has been sent, once per sampled request. */
  recordRequest(activity: RequestActivity): void;
}
