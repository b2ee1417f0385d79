/**
 * The console's one Gatehouse client, for every screen: gatehouse/client (src/client/), the
 * package any front end installs, so the console follows the front-end rules exactly as an app
 * would (docs/front-ends.md): cookie sessions with `credentials: 'include'`, each sign-in step
 * checked for a kept cookie, and one socket, opened after login and never again after its
 * session ended (4403). The console is served from Gatehouse's own origin: `/graphql` is its API.
 */
import { createClient } from '../../src/client/index.js';

export const gatehouse = createClient({ url: '/graphql' });
