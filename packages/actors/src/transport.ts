/**
 * The messaging port of the actor runtime: subjects to serve, publish and
 * ask on. Implemented on a NATS connection (`src/nats/`); a NATS message
 * fits {@link Inbound} as it is, so serving costs no wrapper per request.
 */
export interface Transport {
  /** Calls `handler` for each message on `subject` (one member of `queue` gets each, if given). */
  subscribe(subject: string, handler: (msg: Inbound) => void, queue?: string): Served;
  publish(subject: string, data: Uint8Array): void;
  /** One request and its answer; rejects on timeout or when nobody serves the subject. */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Resolves once the server has seen everything sent so far. */
  flush(): Promise<void>;
}

/** A request or message received on a subscribed subject. */
export interface Inbound {
  readonly data: Uint8Array;
  /** Where the answer goes; absent for a plain publish. */
  readonly reply?: string | undefined;
  respond(data: Uint8Array): boolean;
}

/** A subscription: `drain` answers what is already on its way, `unsubscribe` drops it. */
export interface Served {
  drain(): Promise<void>;
  unsubscribe(): void;
}

/** Answers `msg` if it asked for an answer. */
export function answer(msg: Inbound, data: Uint8Array): void {
  if (msg.reply) msg.respond(data);
}
