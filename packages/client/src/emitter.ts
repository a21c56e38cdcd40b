/** A tiny typed event emitter (no `events` module: the SDK also runs in browsers). */
export class Emitter<Events extends Record<string, (...args: never[]) => void>> {
  readonly #handlers = new Map<keyof Events, Set<Events[keyof Events]>>();

  on<E extends keyof Events>(event: E, handler: Events[E]): () => void {
    let set = this.#handlers.get(event);
    if (!set) this.#handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => this.off(event, handler);
  }

  off<E extends keyof Events>(event: E, handler: Events[E]): void {
    this.#handlers.get(event)?.delete(handler);
  }

  protected emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    for (const handler of this.#handlers.get(event) ?? []) {
      try {
        (handler as (...a: Parameters<Events[E]>) => void)(...args);
      } catch (error) {
        // An application handler's error must not cut short the SDK's own
        // bookkeeping (a join left unresolved, inputs not re-sent): report it apart.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
