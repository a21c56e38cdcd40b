/**
 * The journal appends of a load bench step alone, as a child process of its
 * own so its CPU can be read apart from the load generator's: appends to a JetStream
 * stream made as the journal stream is (file storage, one replica, direct
 * gets), fenced as a journal append is (message id, expected last subject
 * sequence), at `rate` entries/s spread over `subjects` subjects (one per
 * room). Per subject one append is in flight and the entries that come
 * meanwhile share the next one, as a durable room's group commit does.
 * What it costs (this process and nats-server) is what journaling costs
 * at the batch sizes its own latency gives.
 *
 * One step per process: `journal-appends.ts <rate> <seconds> <bytes>` with
 * NATS_URL and APPENDS_SUBJECT set prints `{"event":"ready"}`, runs the step on
 * SIGUSR2 (so the parent reads its CPU from the start of the step), prints
 * `{"event":"step","acked":…,"appends":…,"p50":…,"p99":…}` and waits to be
 * killed.
 */
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";

const SUBJECTS = 10;

interface StepRequest {
  rate: number;
  seconds: number;
  bytes: number;
}

/** One subject's journal: one append in flight, later entries batched into the next. */
class Journal {
  #last = 0;
  #queued: number[] = [];
  #inFlight = false;
  appends = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly subject: string,
    private readonly entry: Uint8Array,
    private readonly onAck: (ms: number) => void,
  ) {}

  add(): void {
    this.#queued.push(performance.now());
    if (!this.#inFlight) void this.#flush();
  }

  get idle(): boolean {
    return !this.#inFlight && this.#queued.length === 0;
  }

  async #flush(): Promise<void> {
    this.#inFlight = true;
    while (this.#queued.length > 0) {
      const batch = this.#queued.splice(0);
      const data = new Uint8Array(this.entry.length * batch.length);
      for (let i = 0; i < batch.length; i++) data.set(this.entry, i * this.entry.length);
      const ack = await this.js.publish(this.subject, data, {
        msgID: `appends:${this.subject}:${this.#last}`,
        expect: { lastSubjectSequence: this.#last },
      });
      this.#last = ack.seq;
      this.appends++;
      const now = performance.now();
      for (const sent of batch) this.onAck(now - sent);
    }
    this.#inFlight = false;
  }
}

async function step(js: JetStreamClient, prefix: string, req: StepRequest) {
  const times: number[] = [];
  const entry = new Uint8Array(req.bytes).fill(7);
  const journals = Array.from(
    { length: SUBJECTS },
    (_, i) => new Journal(js, `${prefix}.${i}`, entry, (ms) => times.push(ms)),
  );
  const interval = 1000 / (req.rate / SUBJECTS);
  const endAt = performance.now() + req.seconds * 1000;
  await Promise.all(
    journals.map(async (journal) => {
      let next = performance.now() + Math.random() * interval;
      while (next < endAt) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
        next += interval;
        journal.add();
      }
    }),
  );
  while (!journals.every((j) => j.idle)) await new Promise((resolve) => setTimeout(resolve, 5));
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  const appends = journals.reduce((sum, j) => sum + j.appends, 0);
  return { acked: times.length, appends, p50: at(0.5), p99: at(0.99) };
}

const [rate, seconds, bytes] = process.argv.slice(2).map(Number);
// As Rookery's nodes connect: nats.js otherwise builds two errors with stacks per request.
const nc = await connect({ servers: process.env.NATS_URL, noAsyncTraces: true });
const stream = "bench_journal_appends";
const jsm = await jetstreamManager(nc);
// Made once per nats-server (each step's process finds it there).
await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], allow_direct: true });
const js = jetstream(nc);
const go = new Promise((resolve) => process.once("SIGUSR2", resolve));
console.log(JSON.stringify({ event: "ready" }));
await go;
const prefix = `${stream}.${process.env.APPENDS_SUBJECT ?? "step"}`;
const result = await step(js, prefix, { rate: rate!, seconds: seconds!, bytes: bytes! });
console.log(JSON.stringify({ event: "step", ...result }));
