import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { BucketIncompatibleError, JetStreamUnavailableError } from "./errors";
import { clusterNames, type ClusterNames } from "./names";
import { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from "./options";

/** The opened cluster buckets of one connection. */
export interface ClusterBuckets {
  names: ClusterNames;
  options: ResolvedClusterOptions;
  nodes: KV;
  leases: KV;
  presence: KV;
  state: KV;
}

/**
 * Creates (or opens) every bucket and the journal stream. Safe to run from
 * many processes at once: JetStream accepts a create with an identical
 * config, and an existing bucket is checked against the settings we need.
 */
export async function ensureBuckets(
  nc: NatsConnection,
  options: ClusterOptions = {},
): Promise<ClusterBuckets> {
  const resolved = resolveClusterOptions(options);
  const names = clusterNames(resolved.prefix);
  const jsm = await openManager(nc);
  // Creating a replicated stream takes seconds; data-path operations get the short timeout.
  const provision = new Kvm(jetstream(nc, { timeout: PROVISION_TIMEOUT_MS }));
  const data = new Kvm(jetstream(nc, { timeout: resolved.opTimeoutMs }));
  const replicas = resolved.replicas;
  const open = async (name: string, spec: BucketSpec) => {
    await provisionBucket(provision, name, spec);
    await waitForLeader(jsm, `KV_${name}`, replicas);
    return data.open(name);
  };
  const [nodes, leases, presence, state] = await Promise.all([
    open(names.nodesBucket, { replicas, ttl: resolved.heartbeatTtlMs, history: 1 }),
    open(names.leasesBucket, { replicas, history: 1 }),
    open(names.presenceBucket, { replicas, history: 1 }),
    open(names.stateBucket, { replicas, history: 1 }),
  ]);
  await ensureJournal(jsm, names, replicas);
  await waitForLeader(jsm, names.journalStream, replicas);
  return { names, options: resolved, nodes, leases, presence, state };
}

async function openManager(nc: NatsConnection): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(nc, { checkAPI: true, timeout: PROVISION_TIMEOUT_MS });
  } catch (cause) {
    throw new JetStreamUnavailableError({ cause });
  }
}

interface BucketSpec {
  replicas: number;
  history: number;
  ttl?: number;
}

const PROVISION_TIMEOUT_MS = 15_000;

async function provisionBucket(kvm: Kvm, name: string, spec: BucketSpec): Promise<void> {
  let kv: KV;
  try {
    kv = await kvm.create(name, spec);
  } catch (cause) {
    if (!isConfigConflict(cause)) throw cause;
    throw new BucketIncompatibleError(name, errorMessage(cause), { cause });
  }
  const status = await kv.status();
  if (status.replicas !== spec.replicas) {
    throw new BucketIncompatibleError(name, `replicas ${status.replicas}, want ${spec.replicas}`);
  }
  if ((status.ttl || 0) !== (spec.ttl ?? 0)) {
    throw new BucketIncompatibleError(name, `ttl ${status.ttl} ms, want ${spec.ttl ?? 0} ms`);
  }
}

/** A replicated stream answers "no responders" until its raft group elected a leader. */
async function waitForLeader(jsm: JetStreamManager, stream: string, replicas: number) {
  if (replicas === 1) return;
  const deadline = performance.now() + PROVISION_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (info?.cluster?.leader) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`stream ${stream} elected no leader within ${PROVISION_TIMEOUT_MS} ms`);
}

function isConfigConflict(err: unknown): boolean {
  return /already in use|different configuration|replicas/i.test(errorMessage(err));
}

async function ensureJournal(jsm: JetStreamManager, names: ClusterNames, replicas: number) {
  const subjects = [`${names.prefix}.journal.>`];
  try {
    const info = await jsm.streams.info(names.journalStream);
    if (info.config.num_replicas !== replicas) {
      throw new BucketIncompatibleError(
        names.journalStream,
        `replicas ${info.config.num_replicas}`,
      );
    }
    return;
  } catch (err) {
    if (err instanceof BucketIncompatibleError) throw err;
    if (!errorMessage(err).includes("not found")) throw err;
  }
  try {
    await jsm.streams.add({ name: names.journalStream, subjects, num_replicas: replicas });
  } catch (cause) {
    if (!isConfigConflict(cause)) throw cause;
    throw new BucketIncompatibleError(names.journalStream, errorMessage(cause), { cause });
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
