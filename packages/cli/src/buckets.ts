import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import { clusterNames, type ClusterNames } from "@rookery/cluster";

export const BUCKETS = ["nodes", "leases", "presence", "state"] as const;
export type BucketAlias = (typeof BUCKETS)[number];

export class BucketMissingError extends Error {
  readonly code = "BUCKET_MISSING";
  override readonly name = "BucketMissingError";
  constructor(bucket: string, options?: ErrorOptions) {
    super(`bucket ${bucket} not found: is Rookery running with this --prefix?`, options);
  }
}

/** Opens existing buckets read-only; the CLI never creates anything. */
export class BucketReader {
  readonly names: ClusterNames;
  readonly #kvm: Kvm;

  constructor(nc: NatsConnection, prefix: string) {
    this.names = clusterNames(prefix);
    this.#kvm = new Kvm(jetstream(nc, { timeout: 5000 }));
  }

  /** Bucket names behind an alias: `nodes` may be one bucket or one per NATS server. */
  async bucketNames(alias: BucketAlias): Promise<string[]> {
    if (alias !== "nodes") {
      const map = {
        leases: this.names.leasesBucket,
        presence: this.names.presenceBucket,
        state: this.names.stateBucket,
      };
      return [map[alias]];
    }
    const single = this.names.nodesBuckets(1)[0]!;
    const perServer = new RegExp(`^${single}_\\d+$`);
    const found: string[] = [];
    for await (const status of this.#kvm.list()) {
      if (status.bucket === single || perServer.test(status.bucket)) found.push(status.bucket);
    }
    if (found.length === 0) throw new BucketMissingError(single);
    return found.sort();
  }

  async open(alias: BucketAlias): Promise<KV[]> {
    const names = await this.bucketNames(alias);
    return Promise.all(names.map((name) => this.#openOne(name)));
  }

  async #openOne(name: string): Promise<KV> {
    try {
      const kv = await this.#kvm.open(name);
      await kv.status(); // open() is lazy: make a missing bucket fail here, by name
      return kv;
    } catch (cause) {
      throw new BucketMissingError(name, { cause });
    }
  }

  /**
   * Every current value under `filter` (a key or wildcard), skipping deleted
   * keys; for a key held in several heartbeat buckets, the newest write wins.
   */
  async entries(alias: BucketAlias, filter = ">"): Promise<KvEntry[]> {
    const newest = new Map<string, KvEntry>();
    for (const kv of await this.open(alias)) {
      const keys: string[] = [];
      for await (const key of await kv.keys(filter)) keys.push(key);
      const entries = await Promise.all(keys.map((k) => kv.get(k)));
      for (const e of entries) {
        if (e?.operation !== "PUT") continue;
        const seen = newest.get(e.key);
        if (!seen || seen.created < e.created) newest.set(e.key, e);
      }
    }
    return [...newest.values()];
  }
}
