/**
 * Tells long-lived work (subscriptions) that the server is stopping. Unlike a shared promise,
 * a listener is dropped when its work ends, so finished subscriptions leave nothing behind.
 */
export class ShutdownSignal {
  private readonly listeners = new Set<() => void>();
  private triggered = false;

  /** Calls `listener` once at shutdown (at once if it has begun); returns a function that unsubscribes. */
  onShutdown(listener: () => void): () => void {
    if (this.triggered) {
      listener();
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  trigger(): void {
    if (this.triggered) return;
    this.triggered = true;
    for (const listener of this.listeners) listener();
    this.listeners.clear();
  }
}
