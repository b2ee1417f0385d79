/**
 * "Service tokens": the credentials other services check sessions with (`gatehouse/verify`) or
 * read them with, each with its scopes and last use; creating one (the token shown once) and
 * revoking one, after a question: every server refuses it within a second, and its open feeds
 * close.
 */
import { useState } from 'preact/hooks';
import { Confirm } from '../dialog.js';
import { ErrorAlert } from '../errors.js';
import type { ServiceTokenRowFragment } from '../gql/graphql.js';
import { asOutcome, useAction, useQuery, useSession } from '../hooks.js';
import { RevokeServiceTokenDocument, ServiceTokensDocument } from '../operations.js';
import { Scroller, TableHead, When } from '../tables.js';
import { serviceScopeLabel } from '../words.js';
import { CreateServiceToken } from './create-service-token.js';

function RevokeButton({ token, onRevoked }: { token: ServiceTokenRowFragment; onRevoked(): void }) {
  const { client } = useSession();
  const [asking, setAsking] = useState(false);
  const revoke = useAction(async () => {
    const result = await asOutcome(client.request(RevokeServiceTokenDocument, { id: token.id }));
    if (!result.error) onRevoked();
    return result;
  });
  return (
    <td class="row-actions">
      <button type="button" class="danger" disabled={revoke.busy} onClick={() => setAsking(true)}>
        Revoke
      </button>
      <ErrorAlert message={revoke.error} />
      {asking && (
        <Confirm
          title="Revoke this service token?"
          consequence={`${token.name} is refused from now on, by every server within a second, and its open feeds close. This cannot be undone: to replace a token, create the new one first.`}
          confirm="Yes, revoke the token"
          onCancel={() => setAsking(false)}
          onConfirm={() => {
            setAsking(false);
            void revoke.run();
          }}
        />
      )}
    </td>
  );
}

export function ServiceTokens() {
  const list = useQuery(ServiceTokensDocument, {});
  const tokens = list.data?.serviceTokens ?? [];
  return (
    <section aria-labelledby="service-tokens">
      <h2 id="service-tokens">Service tokens</h2>
      <p class="hint">
        Other services check sessions with these (Verify sessions) or read them (Read sessions). A token can do nothing
        else: it signs no one in.
      </p>
      <CreateServiceToken onCreated={list.reload} />
      <ErrorAlert message={list.error} />
      <Scroller label="Service token list">
        <table aria-busy={list.loading}>
          <TableHead columns={['Name', 'Scopes', 'Created', 'Created by', 'Last used', 'Actions']} />
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id}>
                <th scope="row">{token.name}</th>
                <td>{token.scopes.map(serviceScopeLabel).join(', ')}</td>
                <td>
                  <When iso={token.createdAt} />
                </td>
                <td>{token.createdBy?.username ?? 'Command line'}</td>
                <td>{token.lastUsedAt ? <When iso={token.lastUsedAt} /> : 'Never'}</td>
                <RevokeButton token={token} onRevoked={list.reload} />
              </tr>
            ))}
          </tbody>
        </table>
      </Scroller>
      {tokens.length === 0 && list.data && <p>No service token yet.</p>}
    </section>
  );
}
