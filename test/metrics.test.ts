import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LoginDocument, LogoutDocument } from './generated/graphql.js';
import { errorCode } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('GET /metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  async function scrape(): Promise<{ response: Response; series: Map<string, number> }> {
    const response = await fetch(`${server.url}/metrics`);
    const text = await response.text();
    const series = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      series.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return { response, series };
  }

  it('counts logins, failures and ends by reason, and reports active sessions from the database', async () => {
    const before = (await scrape()).series;
    await server.adminClient();
    const user = await server.userClient('metered');
    const wrong = await server.client().request(LoginDocument, { username: 'metered', password: 'not-the-password' });
    assert.equal(errorCode(wrong), 'INVALID_CREDENTIALS');
    await user.data(LogoutDocument);

    const { response, series } = await scrape();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const delta = (name: string) => (series.get(name) ?? 0) - (before.get(name) ?? 0);
    // userClient signs the admin in once more to create the user, then signs the user in.
    assert.equal(delta('gatehouse_auth_events_total{type="LOGIN_SUCCEEDED"}'), 3);
    assert.equal(delta('gatehouse_auth_events_total{type="LOGIN_FAILED"}'), 1);
    assert.equal(delta('gatehouse_auth_events_total{type="SESSION_ENDED",reason="LOGOUT"}'), 1);
    assert.equal(delta('gatehouse_auth_events_total{type="USER_CREATED"}'), 1);
    // Two admin sessions remain (adminClient, and the one userClient used).
    assert.equal(series.get('gatehouse_active_sessions'), 2);
    assert.ok((series.get('gatehouse_cached_sessions') ?? 0) >= 1, 'the admin session was cached');
    assert.equal(series.get('gatehouse_websocket_connections'), 0);
  });
});
