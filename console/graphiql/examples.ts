/** The tabs GraphiQL opens with: what an admin usually asks first. */
export const EXAMPLE_TABS = [
  {
    query: `# Active sessions, newest first. Pass pageInfo.endCursor as $after for the next page.
query ActiveSessions($after: String) {
  activeSessions(first: 20, after: $after) {
    totalCount
    edges {
      node { id user { username } userAgent ipAddress createdAt lastSeenAt }
    }
    pageInfo { endCursor hasNextPage }
  }
}`,
  },
  {
    query: `query Stats {
  sessionStats {
    activeSessions
    activeUsers
    sessionsStartedLast24h
    endReasonsLast24h { reason count }
  }
}`,
  },
  {
    query: `query AuditLog {
  authEvents(first: 20) {
    edges { node { type reason userId sessionId ipAddress createdAt } }
  }
}`,
  },
  {
    query: `# Paste a session id from ActiveSessions.
mutation Kick($sessionId: ID!) {
  kickSession(sessionId: $sessionId) { id endReason endedAt }
}`,
    variables: '{ "sessionId": "" }',
  },
  {
    query: `# Sessions starting and ending, live (over WebSocket).
subscription Live {
  sessionEvents { type reason at session { id user { username } } }
}`,
  },
];
