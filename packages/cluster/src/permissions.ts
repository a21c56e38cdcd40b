/**
 * The NATS permissions of each Rookery role (docs/security.md): one user per
 * role, each allowed only the subjects and JetStream API calls its code
 * sends. Subjects are what nats.js v3 (`@nats-io/kv`, `@nats-io/jetstream`)
 * publishes: a KV write is a publish on `$KV.<bucket>.<key>`, a KV read a
 * direct get `$JS.API.DIRECT.GET.KV_<bucket>.$KV.<bucket>.<key>`, a watch or
 * key listing an ordered push consumer (`$JS.API.CONSUMER.CREATE.KV_<bucket>…`
 * delivering to `_INBOX.…`, with flow control answered on `$JS.FC.…`), and
 * every JetStream API reply comes back on `_INBOX.…`.
 */
import { clusterNames } from "./names";

export type NatsUserRole = "gateway" | "node" | "operator" | "admin";
export const NATS_USER_ROLES: readonly NatsUserRole[] = ["gateway", "node", "operator", "admin"];

export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
  /** Replies to requests the user received (room requests, placements). */
  allow_responses?: boolean;
}

export interface PermissionScope {
  /** Namespace of buckets, streams and subjects. @default "rk" */
  prefix?: string;
  /**
   * Heartbeat buckets per server (`ROOKERY_HEARTBEAT_TAGS` count); the single
   * `<prefix>_nodes` bucket is always included. @default 0
   */
  heartbeatBuckets?: number;
}

const API = "$JS.API";

function scope(options: PermissionScope = {}) {
  const names = clusterNames(options.prefix ?? "rk");
  const count = options.heartbeatBuckets ?? 0;
  const nodes = [...names.nodesBuckets(1), ...(count > 1 ? names.nodesBuckets(count) : [])];
  const buckets = [...nodes, names.leasesBucket, names.presenceBucket, names.stateBucket];
  return { names, nodes, buckets, p: names.prefix };
}

/** Stream info and create (idempotent; update, delete and purge are not granted). */
function provision(stream: string): string[] {
  return [`${API}.STREAM.INFO.${stream}`, `${API}.STREAM.CREATE.${stream}`];
}

/** Reading a KV bucket: status, get (direct, or through the leader), watch and key listing. */
function readBucket(bucket: string): string[] {
  const stream = `KV_${bucket}`;
  return [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.DIRECT.GET.${stream}.$KV.${bucket}.>`,
    `${API}.STREAM.MSG.GET.${stream}`,
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.*`,
    `${API}.CONSUMER.DELETE.${stream}.*`,
    `$JS.FC.${stream}.>`,
  ];
}

/** Writing keys of a bucket matching `keys` (put, create, update, delete, purge). */
function writeBucket(bucket: string, keys = ">"): string[] {
  return [`$KV.${bucket}.${keys}`];
}

/** Every role receives JetStream replies and watch deliveries on its inbox. */
const INBOX = "_INBOX.>";

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** The permissions of one role in one namespace. */
export function rolePermissions(role: NatsUserRole, options?: PermissionScope): NatsPermissions {
  const { names, nodes, buckets, p } = scope(options);
  const journal = names.journalStream;
  const allStreams = [...buckets.map((b) => `KV_${b}`), journal];
  const base = [`${API}.INFO`];
  switch (role) {
    case "gateway":
      return {
        publish: {
          allow: unique([
            ...base,
            ...allStreams.flatMap(provision),
            ...[...nodes, names.leasesBucket].flatMap(readBucket),
            ...nodes.flatMap((b) => writeBucket(b, "gateway.*")),
            `${p}.room.*.*.in`,
            `${p}.place.*`,
          ]),
        },
        subscribe: { allow: [INBOX, `${p}.room.*.*.ev`] },
      };
    case "node":
      return {
        publish: {
          allow: unique([
            ...base,
            ...allStreams.flatMap(provision),
            ...buckets.flatMap(readBucket),
            ...nodes.flatMap((b) => writeBucket(b, "node.*")),
            ...[names.leasesBucket, names.presenceBucket, names.stateBucket].flatMap((b) =>
              writeBucket(b),
            ),
            `${p}.journal.>`,
            `${API}.DIRECT.GET.${journal}`,
            `${API}.DIRECT.GET.${journal}.>`,
            `${API}.STREAM.MSG.GET.${journal}`,
            `${API}.STREAM.PURGE.${journal}`,
            `${p}.room.*.*.ev`,
            `${p}.sys.down`,
            // A draining node hands its rooms to the others (host-control.ts).
            `${p}.ctl.*`,
          ]),
        },
        subscribe: { allow: [INBOX, `${p}.room.*.*.in`, `${p}.place.*`, `${p}.ctl.*`] },
        allow_responses: true,
      };
    case "operator":
      return {
        publish: {
          allow: unique([
            ...base,
            `${API}.STREAM.LIST`,
            `${API}.STREAM.NAMES`,
            ...buckets.flatMap(readBucket),
          ]),
        },
        subscribe: { allow: [INBOX] },
      };
    case "admin":
      return {
        publish: {
          allow: unique([
            ...base,
            `${API}.STREAM.LIST`,
            `${API}.STREAM.NAMES`,
            ...allStreams.flatMap((s) => [
              `${API}.STREAM.*.${s}`,
              `${API}.STREAM.MSG.*.${s}`,
              `${API}.DIRECT.GET.${s}`,
              `${API}.DIRECT.GET.${s}.>`,
              `${API}.CONSUMER.*.${s}`,
              `${API}.CONSUMER.*.${s}.>`,
              `$JS.FC.${s}.>`,
            ]),
            ...buckets.flatMap((b) => writeBucket(b)),
            // Includes `${p}.ctl.<node>`: drain, undrain, move (operator has no access).
            `${p}.>`,
          ]),
        },
        subscribe: { allow: [INBOX, `${p}.>`] },
      };
  }
}

/** One user of the server's `authorization` block. */
export interface NatsUserEntry {
  role: NatsUserRole;
  /** The user's public nkey (`U…`). */
  nkey: string;
}

/**
 * The `authorization { users: [...] }` block of a nats-server config (JSON is
 * valid nats-server config syntax), one user per entry.
 */
export function renderAuthorization(users: NatsUserEntry[], options?: PermissionScope): string {
  const entries = users.map((u) => ({
    nkey: u.nkey,
    permissions: rolePermissions(u.role, options),
  }));
  const lines = entries.map(
    (e, i) => `    # ${users[i]!.role}\n    ${JSON.stringify(e, null, 2).replace(/\n/g, "\n    ")}`,
  );
  return `authorization {\n  users: [\n${lines.join(",\n")}\n  ]\n}\n`;
}
