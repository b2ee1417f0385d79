/**
 * `Add passkey`: a name first (the device's, by default), then Gatehouse's creation options
 * (`startPasskeyRegistration`, a step-up action), the browser's prompt, and
 * `finishPasskeyRegistration`. Gatehouse asks for user verification and a discoverable
 * credential, so the passkey also signs in without a password.
 */
import { useState } from 'preact/hooks';
import { describeDevice } from '../device.js';
import { Dialog } from '../dialog.js';
import { ErrorAlert } from '../errors.js';
import { asOutcome, useAction, useSession } from '../hooks.js';
import { FinishPasskeyRegistrationDocument, StartPasskeyRegistrationDocument } from '../operations.js';
import { passkeyCeremony, passkeysSupported } from '../passkeys.js';
import type { FactorAdded } from './add-totp.js';

function PasskeyDialog({ onClose }: { onClose(added?: FactorAdded): void }) {
  const { client } = useSession();
  const create = useAction((name: string) =>
    passkeyCeremony(
      'create',
      async () => {
        const result = await asOutcome(client.request(StartPasskeyRegistrationDocument, {}));
        return { error: result.error, options: result.data?.startPasskeyRegistration };
      },
      async (response) => {
        const result = await asOutcome(client.request(FinishPasskeyRegistrationDocument, { response, name }));
        if (result.data) onClose(result.data.finishPasskeyRegistration);
        return result;
      },
    ),
  );
  const onSubmit = (event: Event) => {
    event.preventDefault();
    void create.run(String(new FormData(event.currentTarget as HTMLFormElement).get('name') ?? '').trim());
  };
  return (
    <Dialog title="Add a passkey" onCancel={() => onClose()}>
      <p>
        Your browser will ask where to keep the passkey (this device, a phone or a security key) and check it is you.
      </p>
      <form class="stacked" onSubmit={onSubmit} aria-busy={create.busy}>
        <label>
          Name
          <input name="name" autocomplete="off" maxLength={64} defaultValue={describeDevice(navigator.userAgent)} />
        </label>
        <ErrorAlert message={create.error} />
        <div class="actions">
          <button type="button" onClick={() => onClose()}>
            Cancel
          </button>
          <button type="submit" disabled={create.busy}>
            Create passkey
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function AddPasskey({ onAdded }: { onAdded(added: FactorAdded): void }) {
  const [open, setOpen] = useState(false);
  if (!passkeysSupported()) return null;
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Add passkey
      </button>
      {open && (
        <PasskeyDialog
          onClose={(added) => {
            setOpen(false);
            if (added) onAdded(added);
          }}
        />
      )}
    </>
  );
}
