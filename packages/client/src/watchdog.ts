/**
 * Notices a frozen gateway (a stopped process, a dead host behind a live
 * proxy): its TCP connection stays open, so only a missing answer shows it.
 * Whenever the oldest unanswered request is `deadlineMs` old, `probe` runs
 * (the connection pings and gives up if nothing at all comes back); while
 * requests stay unanswered it runs again every `deadlineMs`.
 */
export class AckWatchdog {
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly deadlineMs: number,
    private readonly oldestUnanswered: () => number | undefined,
    private readonly probe: () => void,
  ) {}

  /** A request went out: make sure its deadline is watched. */
  arm(): void {
    if (this.#timer !== undefined) return;
    const oldest = this.oldestUnanswered();
    if (oldest === undefined) return;
    this.#schedule(oldest + this.deadlineMs - Date.now());
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    const oldest = this.oldestUnanswered();
    if (oldest === undefined) return;
    const due = oldest + this.deadlineMs - Date.now();
    if (due > 0) return this.#schedule(due);
    this.probe();
    this.#schedule(this.deadlineMs);
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => this.#check(), Math.max(0, delayMs));
  }
}
