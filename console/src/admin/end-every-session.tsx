/**
 * The emergency control: every active session but this one ends (ALL_SESSIONS_REVOKED), after
 * a confirmation, and the count ended is shown. The live feed takes the rows away meanwhile.
 */
import { useState } from 'preact/hooks';
import { Confirm } from '../dialog.js';
import { ErrorAlert } from '../errors.js';
import { asOutcome, useAction, useSession } from '../hooks.js';
import { EndEverySessionDocument } from '../operations.js';

export function EndEverySession() {
  const { client } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState('');
  const endAll = useAction(async () => {
    setOutcome('Ending every session…');
    const result = await asOutcome(client.request(EndEverySessionDocument, {}));
    const ended = result.data?.revokeAllSessions;
    setOutcome(ended === undefined ? '' : `${ended} session${ended === 1 ? '' : 's'} ended. Yours stays signed in.`);
    return result;
  });
  return (
    <div class="emergency">
      <button type="button" class="danger" onClick={() => !endAll.busy && setConfirming(true)}>
        End every session
      </button>
      <p role="status">{outcome}</p>
      <ErrorAlert message={endAll.error} />
      {confirming && (
        <Confirm
          title="End every session?"
          consequence="Everyone but you is signed out at once, on every device, and told that an administrator signed everyone out."
          confirm="Yes, end every session"
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            void endAll.run();
          }}
        />
      )}
    </div>
  );
}
