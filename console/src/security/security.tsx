/**
 * "Security": the signed-in user's second factors (authenticator apps and passkeys), adding and
 * removing them, and recovery codes. Recovery codes are shown once, right after the first factor
 * or after `Regenerate recovery codes`, and kept only in this page's memory until `Done`.
 * Adding, removing and regenerating are step-up actions: `useAction` opens the prompt.
 */
import { useState } from 'preact/hooks';
import { Confirm } from '../dialog.js';
import { ErrorAlert } from '../errors.js';
import type { SecondFactorRowFragment } from '../gql/graphql.js';
import { asOutcome, useAction, useQuery, useSession } from '../hooks.js';
import { RegenerateRecoveryCodesDocument, RemoveSecondFactorDocument, SecondFactorsDocument } from '../operations.js';
import { Scroller, TableHead, When } from '../tables.js';
import { factorKindInWords } from '../words.js';
import { AddPasskey } from './add-passkey.js';
import { AddTotp, type FactorAdded } from './add-totp.js';
import { RecoveryCodes } from './recovery-codes.js';

function removeQuestion(factor: SecondFactorRowFragment, last: boolean) {
  return {
    title: `Remove ${factor.name}?`,
    consequence: last
      ? 'It is your only second factor: your password alone will sign you in again, and your recovery codes stop working.'
      : `${factor.name} will no longer sign you in or confirm it is you.`,
    confirm: `Yes, remove ${factor.name}`,
  };
}

function FactorRow({ factor, onRemove }: { factor: SecondFactorRowFragment; onRemove(): void }) {
  return (
    <tr>
      <th scope="row">{factor.name}</th>
      <td>{factorKindInWords(factor.kind)}</td>
      <td>
        <When iso={factor.createdAt} />
      </td>
      <td>{factor.lastUsedAt ? <When iso={factor.lastUsedAt} /> : 'Never'}</td>
      <td>
        <button type="button" class="danger" onClick={onRemove}>
          Remove
        </button>
      </td>
    </tr>
  );
}

/** Recovery codes shown now, and the actions that make new ones. */
function useRecoveryCodes() {
  const { client } = useSession();
  const [codes, setCodes] = useState<readonly string[] | undefined>();
  const regenerate = useAction(async () => {
    const result = await asOutcome(client.request(RegenerateRecoveryCodesDocument, {}));
    if (result.data) setCodes(result.data.regenerateRecoveryCodes);
    return result;
  });
  return { codes, setCodes, regenerate };
}

export function Security() {
  const { client, viewer } = useSession();
  const factors = useQuery(SecondFactorsDocument, {});
  const recovery = useRecoveryCodes();
  const [asking, setAsking] = useState<'regenerate' | SecondFactorRowFragment | undefined>();
  const remove = useAction(async (id: string) => {
    const result = await asOutcome(client.request(RemoveSecondFactorDocument, { id }));
    if (!result.error) factors.reload();
    return result;
  });
  const added = ({ recoveryCodes }: FactorAdded) => {
    if (recoveryCodes?.length) recovery.setCodes(recoveryCodes);
    factors.reload();
  };
  const rows = factors.data?.me?.secondFactors ?? [];
  const failure = remove.error ?? recovery.regenerate.error ?? factors.error;
  return (
    <section aria-labelledby="security">
      <h2 id="security">Security</h2>
      <p class="hint">
        {rows.length === 0
          ? 'Your password alone signs you in. Add an authenticator app or a passkey, so that a stolen password is not enough.'
          : 'Signing in with your password also takes one of these; a passkey signs you in by itself.'}
      </p>
      {rows.length > 0 && (
        <Scroller label="Second factors">
          <table aria-busy={factors.loading}>
            <TableHead columns={['Name', 'Kind', 'Added', 'Last used']} action />
            <tbody>
              {rows.map((factor) => (
                <FactorRow key={factor.id} factor={factor} onRemove={() => setAsking(factor)} />
              ))}
            </tbody>
          </table>
        </Scroller>
      )}
      <ErrorAlert message={failure} />
      <div class="actions">
        <AddTotp onAdded={added} />
        <AddPasskey onAdded={added} />
        {rows.length > 0 && (
          <button type="button" disabled={recovery.regenerate.busy} onClick={() => setAsking('regenerate')}>
            Regenerate recovery codes
          </button>
        )}
      </div>
      {recovery.codes && (
        <RecoveryCodes username={viewer.username} codes={recovery.codes} onDone={() => recovery.setCodes(undefined)} />
      )}
      {asking === 'regenerate' && (
        <Confirm
          title="Make new recovery codes?"
          consequence="Your current recovery codes stop working at once; the new ones are shown once."
          confirm="Yes, make new codes"
          onCancel={() => setAsking(undefined)}
          onConfirm={() => {
            setAsking(undefined);
            void recovery.regenerate.run();
          }}
        />
      )}
      {asking && asking !== 'regenerate' && (
        <Confirm
          {...removeQuestion(asking, rows.length === 1)}
          onCancel={() => setAsking(undefined)}
          onConfirm={() => {
            setAsking(undefined);
            void remove.run(asking.id);
          }}
        />
      )}
    </section>
  );
}
