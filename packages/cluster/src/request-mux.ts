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

/** The caller gave up on the request (its AbortSignal fired); a reply that comes later is dropped. */
export class RequestAbortedError extends Error {
  readonly code = "REQUEST_ABORTED";
  override readonly name = "RequestAbortedError";
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

  /**
   * Publishes `data` and resolves with the first reply. Rejects with
   * RequestTimeoutError after `timeoutMs`, NoRespondersError when nobody
   * subscribes, and RequestAbortedError as soon as `signal` fires (what was
   * published stays published: only the wait ends).
   */
  request(
    subject: string,
    data: Uint8Array,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Msg> {
    if (signal?.aborted) return Promise.reject(aborted(subject));
    this.#sub ??= this.nc.subscribe(`${this.#prefix}*`, {
      callback: (_error, msg) => this.#onReply(msg),
    });
    const token = (this.#next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        pending.reject(new RequestTimeoutError(`no reply from ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      const pending: Pending = { resolve, reject, timer, subject };
      if (signal) this.#follow(token, pending, signal);
      this.#pending.set(token, pending);
      try {
        this.nc.publish(subject, data, { reply: this.#prefix + token });
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(token);
        pending.reject(error as Error);
      }
    });
  }

  /** Ends the wait when `signal` fires; the listener goes when the request settles. */
  #follow(token: string, pending: Pending, signal: AbortSignal): void {
    const onAbort = () => {
      if (this.#pending.get(token) !== pending) return;
      this.#pending.delete(token);
      clearTimeout(pending.timer);
      pending.reject(aborted(pending.subject));
    };
    const { resolve, reject } = pending;
    pending.resolve = (msg) => {
      signal.removeEventListener("abort", onAbort);
      resolve(msg);
    };
    pending.reject = (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
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

const aborted = (subject: string) => new RequestAbortedError(`request to ${subject} aborted`);
