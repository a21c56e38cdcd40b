import type { Room, RookeryClient } from "@rookery/client";

/**
 * One client of a failure test's load: sends `add` to a ledger room every
 * `paceMs` and records what came back and every event seq it applied.
 */
export class Player {
  readonly acked = new Set<string>();
  readonly failed = new Map<string, string>();
  readonly seqs: number[] = [];
  lastAckAt = 0;
  #n = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(
    readonly client: RookeryClient,
    readonly room: Room,
    private readonly paceMs = 100,
  ) {
    this.seqs.push(room.seq);
    room.on("event", (e) => this.seqs.push(e.seq));
    // A snapshot replaces the view: the seq restarts from there.
    room.on("snapshot", () => this.seqs.push(-1, room.seq));
  }

  start(): void {
    this.#timer = setInterval(() => this.#send(), this.paceMs);
  }

  /** Stops sending and waits until every input sent got its answer. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#inFlight]);
  }

  /** Event seqs that did not follow their predecessor (a snapshot restarts the count). */
  gaps(): number[] {
    const gaps: number[] = [];
    for (let i = 1; i < this.seqs.length; i++) {
      const [prev, seq] = [this.seqs[i - 1]!, this.seqs[i]!];
      if (prev !== -1 && seq !== -1 && seq !== prev + 1) gaps.push(seq);
    }
    return gaps;
  }

  #send(): void {
    const tag = `${this.client.member}#${++this.#n}`;
    const sent = this.room.send("add", { n: 1, tag }).then(
      () => {
        this.acked.add(tag);
        this.lastAckAt = performance.now();
      },
      (error: { code?: string }) => this.failed.set(tag, error.code ?? String(error)),
    );
    this.#inFlight.add(sent);
    void sent.finally(() => this.#inFlight.delete(sent));
  }
}
