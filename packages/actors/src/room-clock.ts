/**
 * A room's own clock: the timers its handlers arm (`ctx.setTimer`, kept in
 * the room's state as name -> due time) and its tick, as Node timers. The
 * actor creates one only for a room that arms a timer or ticks: most rooms
 * do neither, and each object costs memory (budget: 4 KB a room).
 */
export class RoomClock {
  /** Armed Node timers by `name@dueAt`: a timer re-armed at another time is another key. */
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #ticker: NodeJS.Timeout | undefined;

  constructor(
    /** A timer is due; the receiver checks it is still armed at `dueAt` when its turn comes. */
    private readonly onTimer: (name: string, dueAt: number) => void,
    private readonly onTick: () => void,
  ) {}

  /** True while a timer is armed or the room ticks: such a room is never passivated. */
  get busy(): boolean {
    return this.#ticker !== undefined || this.#timers.size > 0;
  }

  /** Arms every timer of `due` not armed yet, dropping the one of the same name it replaces. */
  arm(due: Readonly<Record<string, number>>): void {
    for (const [name, dueAt] of Object.entries(due)) {
      const key = `${name}@${dueAt}`;
      if (this.#timers.has(key)) continue;
      for (const other of this.#timers.keys()) if (other.startsWith(`${name}@`)) this.#clear(other);
      const timer = setTimeout(
        () => {
          this.#timers.delete(key);
          this.onTimer(name, dueAt);
        },
        Math.max(0, dueAt - Date.now()),
      );
      this.#timers.set(key, timer);
    }
  }

  startTicks(tickMs: number): void {
    clearInterval(this.#ticker);
    this.#ticker = setInterval(this.onTick, tickMs);
  }

  /** Disarms everything. Idempotent. */
  stop(): void {
    for (const key of [...this.#timers.keys()]) this.#clear(key);
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #clear(key: string): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
  }
}
