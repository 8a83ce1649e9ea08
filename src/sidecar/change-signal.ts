/** A set of no-argument listeners: "something in the config snapshot changed". */
export class ChangeSignal {
  private readonly listeners = new Set<() => void>();

  /** Adds `listener`; returns the function that removes it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls every listener (a copy of the set: listeners may unsubscribe while called). */
  emit(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
