/**
 * `Add authenticator app`: Gatehouse makes a secret (`startTotpEnrollment`, a step-up action),
 * the page shows it as a QR code drawn here and as text to type, and the first code from the app
 * confirms it (`confirmTotpEnrollment`). Until then the factor does not exist: closing the dialog
 * drops the secret.
 */
import { useState } from 'preact/hooks';
import { CodeField } from '../code-field.js';
import { Dialog } from '../dialog.js';
import { ErrorAlert, errorCode } from '../errors.js';
import type { SecondFactorRowFragment } from '../gql/graphql.js';
import { asOutcome, useAction, useSession } from '../hooks.js';
import { ConfirmTotpEnrollmentDocument, StartTotpEnrollmentDocument } from '../operations.js';
import { QrCode } from '../qr-code.js';

/** What adding any factor answers: the factor, and recovery codes when they were made just now. */
export interface FactorAdded {
  factor: SecondFactorRowFragment;
  recoveryCodes?: readonly string[] | null | undefined;
}

interface Enrollment {
  secret: string;
  otpauthUri: string;
}

/** The secret in groups of four, as apps show them; the app ignores the spaces. */
const grouped = (secret: string) => secret.match(/.{1,4}/g)?.join(' ') ?? secret;

const WRONG_FIRST_CODE =
  'That code is not right. Check that the app holds this key and that the device’s clock is right, then enter the code it shows now.';

function TotpDialog({ enrollment, onClose }: { enrollment: Enrollment; onClose(added?: FactorAdded): void }) {
  const { client } = useSession();
  const confirm = useAction(async (code: string, name: string) => {
    const result = await asOutcome(client.request(ConfirmTotpEnrollmentDocument, { code, name }));
    if (errorCode(result.error) === 'INVALID_SECOND_FACTOR') return { failure: WRONG_FIRST_CODE };
    if (result.data) onClose(result.data.confirmTotpEnrollment);
    return result;
  });
  const onSubmit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    void confirm.run(String(form.get('code') ?? ''), String(form.get('name') ?? '').trim());
  };
  return (
    <Dialog title="Add an authenticator app" onCancel={() => onClose()}>
      <p>Scan this code with your authenticator app:</p>
      <QrCode text={enrollment.otpauthUri} label="QR code of the key for your authenticator app" />
      <p>
        Or type this key into the app: <code class="secret">{grouped(enrollment.secret)}</code>
      </p>
      <form class="stacked" onSubmit={onSubmit} aria-busy={confirm.busy}>
        <CodeField />
        <label>
          Name
          <input name="name" autocomplete="off" maxLength={64} defaultValue="Authenticator app" />
        </label>
        <ErrorAlert message={confirm.error} />
        <div class="actions">
          <button type="button" onClick={() => onClose()}>
            Cancel
          </button>
          <button type="submit" disabled={confirm.busy}>
            Confirm
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function AddTotp({ onAdded }: { onAdded(added: FactorAdded): void }) {
  const { client } = useSession();
  const [enrollment, setEnrollment] = useState<Enrollment | undefined>();
  const start = useAction(async () => {
    const result = await asOutcome(client.request(StartTotpEnrollmentDocument, {}));
    if (result.data) setEnrollment(result.data.startTotpEnrollment);
    return result;
  });
  return (
    <>
      <button type="button" disabled={start.busy} onClick={() => void start.run()}>
        Add authenticator app
      </button>
      <ErrorAlert message={start.error} />
      {enrollment && (
        <TotpDialog
          enrollment={enrollment}
          onClose={(added) => {
            setEnrollment(undefined);
            if (added) onAdded(added);
          }}
        />
      )}
    </>
  );
}
