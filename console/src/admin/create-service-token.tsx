/**
 * Creating a service token: its name and scopes; then the token itself, which Gatehouse shows
 * this once ({@link TokenShown}), with a button that copies it.
 */
import { useRef, useState } from 'preact/hooks';
import { Dialog } from '../dialog.js';
import { ErrorAlert } from '../errors.js';
import type { ServiceScope } from '../gql/graphql.js';
import { asOutcome, useAction, useSession } from '../hooks.js';
import { CreateServiceTokenDocument } from '../operations.js';
import { SERVICE_SCOPE_CHOICES } from '../words.js';

/**
 * The clipboard is there only in a secure context (HTTPS, or localhost): elsewhere the token is
 * selected, and the page says how to copy it.
 */
async function copied(input: HTMLInputElement | null, text: string): Promise<string> {
  try {
    await navigator.clipboard.writeText(text);
    return 'Copied.';
  } catch {
    input?.select();
    return 'Selected: copy it with Ctrl+C (⌘C on a Mac).';
  }
}

/** The token a service sends as `Authorization: Bearer ghs_…`, shown once, ready to copy. */
function TokenShown({ name, token, onDone }: { name: string; token: string; onDone(): void }) {
  const [status, setStatus] = useState('');
  const input = useRef<HTMLInputElement>(null);
  return (
    <Dialog title="Service token created" onCancel={onDone}>
      <p>
        Give this token to {name}, which sends it in the header <code>Authorization: Bearer &lt;token&gt;</code>. Copy
        it now: Gatehouse keeps only its hash and never shows it again.
      </p>
      <form class="stacked" onSubmit={(event) => (event.preventDefault(), onDone())}>
        <label>
          Service token
          <input
            ref={input}
            name="token"
            readOnly
            value={token}
            autocomplete="off"
            spellcheck={false}
            onFocus={(event) => event.currentTarget.select()}
          />
        </label>
        <p role="status">{status}</p>
        <div class="actions">
          <button type="button" onClick={() => void copied(input.current, token).then(setStatus)}>
            Copy token
          </button>
          <button type="submit">Done</button>
        </div>
      </form>
    </Dialog>
  );
}

export function CreateServiceToken({ onCreated }: { onCreated(): void }) {
  const { client } = useSession();
  const [shown, setShown] = useState<{ name: string; token: string } | undefined>();
  const create = useAction(async (name: string, scopes: ServiceScope[]) => {
    const result = await asOutcome(client.request(CreateServiceTokenDocument, { name, scopes }));
    if (result.data) {
      const { serviceToken, token } = result.data.createServiceToken;
      setShown({ name: serviceToken.name, token });
      onCreated();
    }
    return result;
  });
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const scopes = form.getAll('scopes').map(String) as ServiceScope[];
    if (await create.run(String(form.get('name') ?? ''), scopes)) formElement.reset();
  };
  return (
    <>
      <form class="create-service-token" onSubmit={onSubmit} aria-busy={create.busy}>
        <label>
          Service name
          <input name="name" required maxLength={100} autocomplete="off" />
        </label>
        <fieldset>
          <legend>Scopes</legend>
          {SERVICE_SCOPE_CHOICES.map(([value, label]) => (
            <label key={value} class="check">
              <input type="checkbox" name="scopes" value={value} />
              {label}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={create.busy}>
          Create service token
        </button>
        <ErrorAlert message={create.error} />
      </form>
      {shown && <TokenShown {...shown} onDone={() => setShown(undefined)} />}
    </>
  );
}
