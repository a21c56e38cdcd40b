import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV, type KvStatus } from "@nats-io/kv";
import { BucketIncompatibleError, JetStreamUnavailableError } from "./errors";
import { clusterNames, type ClusterNames } from "./names";
import { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from "./options";

/** The opened cluster buckets of one connection. */
export interface ClusterBuckets {
  names: ClusterNames;
  options: ResolvedClusterOptions;
  /** Heartbeat buckets; a process is live by a majority of them. */
  nodes: KV[];
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
  const provision = new Kvm(jetstream(nc, { timeout: PROVISION_ATTEMPT_MS }));
  const data = new Kvm(jetstream(nc, { timeout: resolved.opTimeoutMs }));
  const replicas = resolved.replicas;
  const open = async (name: string, spec: BucketSpec) => {
    await provisionBucket(provision, name, spec);
    await waitForLeader(jsm, `KV_${name}`, spec.replicas);
    return data.open(name);
  };
  const [nodes, leases, presence, state] = await Promise.all([
    Promise.all(heartbeatSpecs(names, resolved).map(([name, spec]) => open(name, spec))),
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
    return await jetstreamManager(nc, { checkAPI: true, timeout: PROVISION_ATTEMPT_MS });
  } catch (cause) {
    throw new JetStreamUnavailableError({ cause });
  }
}

interface BucketSpec {
  replicas: number;
  history: number;
  ttl?: number;
  placement?: { cluster: string; tags: string[] };
}

function heartbeatSpecs(
  names: ClusterNames,
  options: ResolvedClusterOptions,
): [string, BucketSpec][] {
  const tags = options.heartbeatTags;
  const ttl = options.heartbeatTtlMs;
  if (tags.length === 0) {
    return [[names.nodesBuckets(1)[0]!, { replicas: options.replicas, ttl, history: 1 }]];
  }
  // One single-replica bucket per server: no raft group, so no leader election can stall it.
  const bucketNames = names.nodesBuckets(tags.length);
  return tags.map((tag, i) => [
    bucketNames[i]!,
    { replicas: 1, ttl, history: 1, placement: { cluster: "", tags: [tag] } },
  ]);
}

const PROVISION_TIMEOUT_MS = 20_000;
const PROVISION_ATTEMPT_MS = 3_000;

async function provisionBucket(kvm: Kvm, name: string, spec: BucketSpec): Promise<void> {
  await retryTransient(async () => {
    let kv: KV;
    try {
      kv = await kvm.create(name, spec);
    } catch (cause) {
      if (racedCreate(cause)) throw new RetryProvisioning();
      if (isConfigConflict(cause))
        throw new BucketIncompatibleError(name, errorMessage(cause), { cause });
      throw cause;
    }
    checkCompatible(name, await kv.status(), spec);
  });
}

function checkCompatible(name: string, status: KvStatus, spec: BucketSpec): void {
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

/** Raised inside a provisioning attempt to run it again (a concurrent create won the race). */
class RetryProvisioning extends Error {
  override readonly name = "RetryProvisioning";
  constructor() {
    super("provisioning raced another process");
  }
}

/**
 * nats-server 2.9 answers a create that raced an identical one with "subjects
 * overlap" (or "already in use"): the stream exists now; look at it again.
 */
function racedCreate(err: unknown): boolean {
  return /subjects overlap|already in use/i.test(errorMessage(err));
}

function isTransient(err: unknown): boolean {
  if (err instanceof RetryProvisioning) return true;
  return /timeout|not found|no responders/i.test(errorMessage(err));
}

function isConfigConflict(err: unknown): boolean {
  return /already in use|different configuration|replicas/i.test(errorMessage(err));
}

async function ensureJournal(jsm: JetStreamManager, names: ClusterNames, replicas: number) {
  const name = names.journalStream;
  await retryTransient(async () => {
    const info = await jsm.streams.info(name).catch((err: unknown) => {
      if (errorMessage(err).includes("stream not found")) return undefined;
      throw err;
    });
    if (info && info.config.num_replicas !== replicas) {
      throw new BucketIncompatibleError(
        name,
        `replicas ${info.config.num_replicas}, want ${replicas}`,
      );
    }
    if (info) return;
    try {
      // Direct gets let an activation read a room's journal tail without creating a consumer.
      await jsm.streams.add({
        name,
        subjects: [`${names.prefix}.journal.>`],
        num_replicas: replicas,
        allow_direct: true,
      });
    } catch (cause) {
      // Another process created it first: check what it made on the next pass.
      if (racedCreate(cause)) throw new RetryProvisioning();
      if (isConfigConflict(cause))
        throw new BucketIncompatibleError(name, errorMessage(cause), { cause });
      throw cause;
    }
  });
}

/**
 * nats-server 2.9 may leave stream requests unanswered, or answer "not found",
 * while another process's create of the same stream is in flight: ask again.
 */
async function retryTransient<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + PROVISION_TIMEOUT_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof BucketIncompatibleError) throw err;
      if (!isTransient(err) || performance.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
