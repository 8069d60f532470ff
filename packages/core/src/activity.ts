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
}
