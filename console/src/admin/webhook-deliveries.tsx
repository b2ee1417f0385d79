/**
 * A webhook's recent deliveries: each event sent, its status, attempts and the last failure in
 * the receiver's words, and a retry for one that failed. What the list shows is read with the
 * webhooks (ConsoleWebhooks); a retry reads it again.
 */
import { ErrorAlert } from '../errors.js';
import type { DeliveryRowFragment } from '../gql/graphql.js';
import { asOutcome, useAction, useSession } from '../hooks.js';
import { RetryDeliveryDocument } from '../operations.js';
import { Scroller, TableHead, When } from '../tables.js';
import { deliveryStatusLabel, webhookEventLabel } from '../words.js';

/** "3 delivered, 1 failed", over the deliveries shown. */
export function deliveriesInWords(deliveries: DeliveryRowFragment[]): string {
  if (deliveries.length === 0) return 'None yet';
  const counts = new Map<string, number>();
  for (const { status } of deliveries) counts.set(status, (counts.get(status) ?? 0) + 1);
  return ['DELIVERED', 'PENDING', 'FAILED']
    .filter((status) => counts.has(status))
    .map((status) => `${counts.get(status)} ${deliveryStatusLabel(status).toLowerCase()}`)
    .join(', ');
}

/** What the last attempt got: the status code, or why there was none. */
function lastAnswer(delivery: DeliveryRowFragment): string {
  if (delivery.lastError) return delivery.lastError;
  if (delivery.lastStatusCode !== null) return `HTTP ${delivery.lastStatusCode}`;
  return '—';
}

export interface DeliveriesProps {
  url: string;
  deliveries: DeliveryRowFragment[];
  total: number;
  onChanged(): void;
}

export function Deliveries({ url, deliveries, total, onChanged }: DeliveriesProps) {
  const { client } = useSession();
  const retry = useAction(async (id: string) => {
    const result = await asOutcome(client.request(RetryDeliveryDocument, { id }));
    if (!result.error) onChanged();
    return result;
  });
  return (
    <section class="deliveries" aria-labelledby="recent-deliveries">
      <h3 id="recent-deliveries">Recent deliveries</h3>
      <p class="hint">
        To {url}: the newest {deliveries.length} of {total}.
      </p>
      <ErrorAlert message={retry.error} />
      <Scroller label="Delivery list">
        <table>
          <TableHead columns={['When', 'Event', 'Status', 'Attempts', 'Last answer']} action />
          <tbody>
            {deliveries.map((delivery) => (
              <tr key={delivery.id}>
                <td>
                  <When iso={delivery.createdAt} />
                </td>
                <td>{webhookEventLabel(delivery.eventType)}</td>
                <td>
                  {delivery.status === 'FAILED' ? <strong>Failed</strong> : deliveryStatusLabel(delivery.status)}
                  {delivery.status === 'PENDING' && delivery.nextAttemptAt && (
                    <span class="detail">
                      next attempt <When iso={delivery.nextAttemptAt} />
                    </span>
                  )}
                </td>
                <td>{delivery.attempts}</td>
                <td>{lastAnswer(delivery)}</td>
                <td>
                  {delivery.status === 'FAILED' && (
                    <button type="button" disabled={retry.busy} onClick={() => void retry.run(delivery.id)}>
                      Retry
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroller>
    </section>
  );
}
