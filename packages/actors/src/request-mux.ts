import {
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";

/** Nobody subscribes to the subject (NATS answered 503): for a room, it is not active. */
export class NoRespondersError extends Error {
  readonly code = "NO_RESPONDERS";
  override readonly name = "NoRespondersError";
}

/** No reply within the request's timeout. */
export class RequestTimeoutError extends Error {
  readonly code = "REQUEST_TIMEOUT";
  override readonly name = "RequestTimeoutError";
}

interface Pending {
  resolve: (msg: Msg) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  subject: string;
}

/**
 * Request/reply over one wildcard inbox subscription, as nats.js's own mux
 * does, minus what a gateway pays per request there: an `Error` built (stack
 * trace included) to reject each request's promise after it was resolved,
 * and a deferred timer object. A gateway sends one request per client input.
 */
export class RequestMux {
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  #sub: Subscription | undefined;
  #next = 0;

  constructor(private readonly nc: NatsConnection) {
    this.#prefix = `${createInbox()}.`;
  }

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Msg> {
    this.#sub ??= this.nc.subscribe(`${this.#prefix}*`, {
      callback: (_error, msg) => this.#onReply(msg),
    });
    const token = (this.#next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(new RequestTimeoutError(`no reply from ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(token, { resolve, reject, timer, subject });
      try {
        this.nc.publish(subject, data, { reply: this.#prefix + token });
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(token);
        reject(error as Error);
      }
    });
  }

  /** Rejects what is still waiting and drops the subscription. Idempotent. */
  close(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    for (const [token, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(token);
      p.reject(new RequestTimeoutError(`request to ${p.subject} cancelled: router closed`));
    }
  }

  #onReply(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length);
    const p = this.#pending.get(token);
    if (p === undefined) return; // late: already timed out
    this.#pending.delete(token);
    clearTimeout(p.timer);
    // A no-responders status is an empty message with a 503 header.
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      p.reject(new NoRespondersError(`no responders on ${p.subject}`));
    } else {
      p.resolve(msg);
    }
  }
}
