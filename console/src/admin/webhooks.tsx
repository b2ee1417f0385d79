/**
 * "Webhooks": every webhook with its events, state and recent deliveries; adding one (its secret
 * shown once), disabling and enabling, rotating the secret (shown once), deleting, and retrying a
 * failed delivery. Deliveries move on their own: the list is read again after sign-ins and ends
 * (which make deliveries), and every few seconds while one is still pending.
 */
import { useEffect, useState } from 'preact/hooks';
import { Confirm } from '../dialog.js';
import { ErrorAlert } from '../errors.js';
import type { WebhookRowFragment } from '../gql/graphql.js';
import { asOutcome, useAction, useQuery, useSession } from '../hooks.js';
import {
  DeleteWebhookDocument,
  RotateWebhookSecretDocument,
  SetWebhookEnabledDocument,
  WebhooksDocument,
} from '../operations.js';
import { Scroller, TableHead } from '../tables.js';
import { webhookEventLabel } from '../words.js';
import { CreateWebhook, SecretShown } from './create-webhook.js';
import { useDebounced, useSessionEvents } from './live.js';
import { Deliveries, deliveriesInWords } from './webhook-deliveries.js';

/** Deliveries shown per webhook. */
const RECENT = 10;
/** How often the list is read while a delivery is pending. */
const PENDING_POLL_MS = 2_000;

type Question = 'disable' | 'rotate' | 'delete';

const QUESTIONS: Record<Question, (url: string) => { title: string; consequence: string; confirm: string }> = {
  disable: (url) => ({
    title: 'Disable this webhook?',
    consequence: `${url} gets no new deliveries, and its pending ones fail when due. It can be enabled again.`,
    confirm: 'Yes, disable the webhook',
  }),
  rotate: (url) => ({
    title: 'Rotate this webhook’s secret?',
    consequence: `Deliveries to ${url} are signed with a new secret from now on, shown once: the receiver refuses them until it has it.`,
    confirm: 'Yes, rotate the secret',
  }),
  delete: (url) => ({
    title: 'Delete this webhook?',
    consequence: `${url} gets no more deliveries; its pending deliveries and their history are deleted.`,
    confirm: 'Yes, delete the webhook',
  }),
};

function WebhookActions({ webhook, onChanged }: { webhook: WebhookRowFragment; onChanged(): void }) {
  const { client } = useSession();
  const [asking, setAsking] = useState<Question | undefined>();
  const [secret, setSecret] = useState<string | undefined>();
  const { id, url } = webhook;
  const setEnabled = useAction(async (enabled: boolean) => {
    const result = await asOutcome(client.request(SetWebhookEnabledDocument, { id, enabled }));
    if (!result.error) onChanged();
    return result;
  });
  const rotate = useAction(async () => {
    const result = await asOutcome(client.request(RotateWebhookSecretDocument, { id }));
    if (result.data) setSecret(result.data.rotateWebhookSecret.secret);
    return result;
  });
  const remove = useAction(async () => {
    const result = await asOutcome(client.request(DeleteWebhookDocument, { id }));
    if (!result.error) onChanged();
    return result;
  });
  const run = { disable: () => setEnabled.run(false), rotate: () => rotate.run(), delete: () => remove.run() };
  return (
    <td class="row-actions">
      {webhook.enabled ? (
        <button type="button" disabled={setEnabled.busy} onClick={() => setAsking('disable')}>
          Disable
        </button>
      ) : (
        <button type="button" disabled={setEnabled.busy} onClick={() => void setEnabled.run(true)}>
          Enable
        </button>
      )}
      <button type="button" disabled={rotate.busy} onClick={() => setAsking('rotate')}>
        Rotate secret
      </button>
      <button type="button" class="danger" disabled={remove.busy} onClick={() => setAsking('delete')}>
        Delete
      </button>
      <ErrorAlert message={setEnabled.error ?? rotate.error ?? remove.error} />
      {asking && (
        <Confirm
          {...QUESTIONS[asking](url)}
          onCancel={() => setAsking(undefined)}
          onConfirm={() => {
            setAsking(undefined);
            void run[asking]();
          }}
        />
      )}
      {secret && (
        <SecretShown title="New webhook secret" url={url} secret={secret} onDone={() => setSecret(undefined)} />
      )}
    </td>
  );
}

export function Webhooks() {
  const list = useQuery(WebhooksDocument, { deliveries: RECENT });
  const [shown, setShown] = useState<string | undefined>();
  useSessionEvents(useDebounced(list.reload, 1_000));
  const webhooks = list.data?.webhooks ?? [];
  const pending = webhooks.some((webhook) => webhook.deliveries.edges.some((edge) => edge.node.status === 'PENDING'));
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(list.reload, PENDING_POLL_MS);
    return () => clearTimeout(timer);
  }, [list.data, pending]);
  const open = webhooks.find((webhook) => webhook.id === shown);
  return (
    <section aria-labelledby="webhooks">
      <h2 id="webhooks">Webhooks</h2>
      <p class="hint">
        Other services told of sign-ins, ends and account changes, each delivery signed with the webhook’s secret.
      </p>
      <CreateWebhook onCreated={list.reload} />
      <ErrorAlert message={list.error} />
      <Scroller label="Webhook list">
        <table aria-busy={list.loading}>
          <TableHead columns={['URL', 'Events', 'State', 'Description', 'Recent deliveries', 'Actions']} />
          <tbody>
            {webhooks.map((webhook) => {
              const deliveries = webhook.deliveries.edges.map((edge) => edge.node);
              return (
                <tr key={webhook.id}>
                  <th scope="row" class="url">
                    {webhook.url}
                  </th>
                  <td>{webhook.events.map(webhookEventLabel).join(', ')}</td>
                  <td>{webhook.enabled ? 'Enabled' : <strong>Disabled</strong>}</td>
                  <td>{webhook.description ?? '—'}</td>
                  <td>
                    {deliveriesInWords(deliveries)}
                    {deliveries.length > 0 && (
                      <button
                        type="button"
                        class="link"
                        aria-expanded={shown === webhook.id}
                        onClick={() => setShown(shown === webhook.id ? undefined : webhook.id)}
                      >
                        Deliveries
                      </button>
                    )}
                  </td>
                  <WebhookActions webhook={webhook} onChanged={list.reload} />
                </tr>
              );
            })}
          </tbody>
        </table>
      </Scroller>
      {webhooks.length === 0 && list.data && <p>No webhook yet.</p>}
      {open && (
        <Deliveries
          url={open.url}
          deliveries={open.deliveries.edges.map((edge) => edge.node)}
          total={open.deliveries.totalCount}
          onChanged={list.reload}
        />
      )}
    </section>
  );
}
