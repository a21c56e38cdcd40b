import type { Room, RookeryClient } from "@rookery/client";

/** What a player saw, in order: an event (its type), its join, or a snapshot replacing its view. */
export interface Seen {
  seq: number;
  at: number;
  kind: string;
}

/**
 * One client of a failure test's load: sends `add` to a ledger room every
 * `paceMs` and records what came back and every event it applied.
 */
export class Player {
  readonly acked = new Set<string>();
  readonly failed = new Map<string, string>();
  readonly seen: Seen[] = [];
  /** Why the client reconnected, each time: printed with the results. */
  readonly reconnects: string[] = [];
  lastAckAt = 0;
  #n = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(
    readonly client: RookeryClient,
    readonly room: Room,
    private readonly paceMs = 100,
  ) {
    this.#saw(room.seq, "JOINED");
    client.on("reconnecting", ({ reason }) => this.reconnects.push(reason ?? ""));
    room.on("event", (e) => this.#saw(e.seq, e.type));
    room.on("snapshot", () => this.#saw(room.seq, "SNAP"));
  }

  get snapshots(): number {
    return this.seen.filter((s) => s.kind === "SNAP").length;
  }

  start(): void {
    this.#timer = setInterval(() => this.#send(), this.paceMs);
  }

  /** Stops sending and waits until every input sent got its answer. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Where the event seqs skip or repeat, except at a snapshot that `allowed`
   * admits (a snapshot replaces the view and restarts the count).
   */
  gaps(allowed: (snapshot: Seen) => boolean = () => true): Seen[] {
    return this.seen.filter((s, i) => {
      if (i === 0 || s.seq === this.seen[i - 1]!.seq + 1) return false;
      return !(s.kind === "SNAP" && allowed(s));
    });
  }

  /** (seq, ms since joining, kind) of everything seen: printed when a check fails. */
  trace(): [number, number, string][] {
    const start = this.seen[0]!.at;
    return this.seen.map((s) => [s.seq, Math.round(s.at - start), s.kind]);
  }

  #saw(seq: number, kind: string): void {
    this.seen.push({ seq, at: performance.now(), kind });
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
