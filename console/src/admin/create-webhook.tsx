/**
 * Adding a webhook: its URL, the events it is told of, a description; then its signing secret,
 * which Gatehouse shows this once ({@link SecretShown}, also after a rotation).
 */
import { useState } from 'preact/hooks';
import { Dialog } from '../dialog.js';
import { ErrorAlert } from '../errors.js';
import type { WebhookEventType } from '../gql/graphql.js';
import { asOutcome, useAction, useSession } from '../hooks.js';
import { CreateWebhookDocument } from '../operations.js';
import { WEBHOOK_EVENT_CHOICES } from '../words.js';

/** The secret a receiver verifies signatures with, shown once, ready to copy. */
export function SecretShown({
  title,
  url,
  secret,
  onDone,
}: {
  title: string;
  url: string;
  secret: string;
  onDone(): void;
}) {
  return (
    <Dialog title={title} onCancel={onDone}>
      <p>
        Give this secret to the receiver at {url}: it checks each delivery’s signature with it (Standard Webhooks). Copy
        it now: Gatehouse never shows it again.
      </p>
      <form class="stacked" onSubmit={(event) => (event.preventDefault(), onDone())}>
        <label>
          Signing secret
          <input
            name="secret"
            readOnly
            value={secret}
            autocomplete="off"
            spellcheck={false}
            onFocus={(event) => event.currentTarget.select()}
          />
        </label>
        <div class="actions">
          <button type="submit">Done</button>
        </div>
      </form>
    </Dialog>
  );
}

export function CreateWebhook({ onCreated }: { onCreated(): void }) {
  const { client } = useSession();
  const [shown, setShown] = useState<{ url: string; secret: string } | undefined>();
  const create = useAction(async (url: string, events: WebhookEventType[], description: string) => {
    const result = await asOutcome(
      client.request(CreateWebhookDocument, { url, events, ...(description ? { description } : {}) }),
    );
    if (result.data) {
      setShown({ url: result.data.createWebhook.webhook.url, secret: result.data.createWebhook.secret });
      onCreated();
    }
    return result;
  });
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const events = form.getAll('events').map(String) as WebhookEventType[];
    const description = String(form.get('description') ?? '').trim();
    if (await create.run(String(form.get('url') ?? '').trim(), events, description)) formElement.reset();
  };
  return (
    <>
      <form class="create-webhook" onSubmit={onSubmit} aria-busy={create.busy}>
        <label>
          Webhook URL
          <input name="url" type="url" required placeholder="https://" autocomplete="off" />
        </label>
        <fieldset>
          <legend>Events to send</legend>
          {WEBHOOK_EVENT_CHOICES.map(([value, label]) => (
            <label key={value} class="check">
              <input type="checkbox" name="events" value={value} />
              {label}
            </label>
          ))}
        </fieldset>
        <label>
          Description
          <input name="description" autocomplete="off" maxLength={500} />
        </label>
        <button type="submit" disabled={create.busy}>
          Create webhook
        </button>
        <ErrorAlert message={create.error} />
      </form>
      {shown && <SecretShown title="Webhook created" {...shown} onDone={() => setShown(undefined)} />}
    </>
  );
}
