import { NoRespondersError, RequestTimeoutError } from "@rookery/cluster";
import type { Inbound, Served, Transport } from "./transport";

interface Subscription {
  subject: string;
  queue: string | undefined;
  handler: (msg: Inbound) => void;
}

/**
 * Messaging inside one process, for unit tests of the runtime: one instance
 * is the "server" every in-process host shares. Subjects match exactly (no
 * wildcards: the runtime serves none); every plain subscriber of a subject
 * gets each message, one subscriber per queue group. Delivery is
 * asynchronous (a microtask later), as from a server. A request nobody
 * serves fails with `NoRespondersError`, one unanswered in time with
 * `RequestTimeoutError`, as `RoomRouter`'s do. Published messages are kept
 * in {@link published}.
 */
export class MemoryTransport implements Transport {
  readonly published: { subject: string; data: Uint8Array }[] = [];
  readonly #subs = new Map<string, Subscription[]>();
  #inbox = 0;

  subscribe(subject: string, handler: (msg: Inbound) => void, queue?: string): Served {
    const sub: Subscription = { subject, queue, handler };
    const list = this.#subs.get(subject) ?? [];
    list.push(sub);
    this.#subs.set(subject, list);
    const unsubscribe = () => this.#remove(sub);
    return { unsubscribe, drain: async () => unsubscribe() };
  }

  publish(subject: string, data: Uint8Array): void {
    this.published.push({ subject, data });
    this.#deliver(subject, data, undefined, () => false);
  }

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const timer = setTimeout(() => {
        answered = true;
        reject(new RequestTimeoutError(`no answer on ${subject} in ${timeoutMs} ms`));
      }, timeoutMs);
      const respond = (answer: Uint8Array) => {
        if (answered) return false;
        answered = true;
        clearTimeout(timer);
        resolve(answer);
        return true;
      };
      const reply = `_INBOX.memory.${++this.#inbox}`;
      if (this.#deliver(subject, data, reply, respond) > 0) return;
      clearTimeout(timer);
      reject(new NoRespondersError(`no subscriber on ${subject}`));
    });
  }

  async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Hands the message to its receivers a microtask later; returns how many there are. */
  #deliver(
    subject: string,
    data: Uint8Array,
    reply: string | undefined,
    respond: (answer: Uint8Array) => boolean,
  ): number {
    const receivers: Subscription[] = [];
    const groups = new Map<string, Subscription[]>();
    for (const sub of this.#subs.get(subject) ?? []) {
      if (sub.queue === undefined) receivers.push(sub);
      else groups.set(sub.queue, [...(groups.get(sub.queue) ?? []), sub]);
    }
    for (const members of groups.values())
      receivers.push(members[Math.floor(Math.random() * members.length)]!);
    const msg: Inbound = { data, reply, respond };
    // Not delivered to a subscription dropped meanwhile.
    const live = (sub: Subscription) => this.#subs.get(subject)?.includes(sub) === true;
    for (const sub of receivers)
      queueMicrotask(() => {
        if (live(sub)) sub.handler(msg);
      });
    return receivers.length;
  }

  #remove(sub: Subscription): void {
    const rest = (this.#subs.get(sub.subject) ?? []).filter((s) => s !== sub);
    if (rest.length > 0) this.#subs.set(sub.subject, rest);
    else this.#subs.delete(sub.subject);
  }
}
