/** Options of a test nats-server and the config file rendered from them. */
import { join } from "node:path";

export interface NatsServerOptions {
  /** Enable JetStream, stored in the server's temp dir. @default true */
  jetstream?: boolean;
  /**
   * Run with `-D` and forward the server log to this process's stderr.
   * @default false: the server log goes to `server.log` in the server's temp dir
   */
  debug?: boolean;
  /** Extra nats-server command-line arguments, appended last. @default [] */
  args?: string[];
  /**
   * Config text added as is, typically an `authorization { users: [...] }`
   * block (`renderAuthorization` of `@rookery/cluster`).
   * @default none: the server accepts any client (what most tests want)
   */
  authorization?: string;
  /** Serve clients over TLS only, with these PEM files. @default none: plain TCP */
  tls?: NatsServerTls;
}

/** TLS files of a test server (paths). */
export interface NatsServerTls {
  cert: string;
  key: string;
  /** CA that signed client certificates; required with `verify`. */
  ca?: string;
  /** Require and verify a client certificate (mutual TLS). @default false */
  verify?: boolean;
}

/** {@link NatsServerOptions} with every value present. */
export interface ResolvedNatsServerOptions {
  jetstream: boolean;
  debug: boolean;
  args: string[];
  authorization: string | undefined;
  tls: NatsServerTls | undefined;
}

export function defaultNatsServerOptions(): ResolvedNatsServerOptions {
  return { jetstream: true, debug: false, args: [], authorization: undefined, tls: undefined };
}

export function resolveNatsServerOptions(opts?: NatsServerOptions): ResolvedNatsServerOptions {
  const defaults = defaultNatsServerOptions();
  return {
    jetstream: opts?.jetstream ?? defaults.jetstream,
    debug: opts?.debug ?? defaults.debug,
    args: [...(opts?.args ?? defaults.args)],
    authorization: opts?.authorization ?? defaults.authorization,
    tls: opts?.tls ?? defaults.tls,
  };
}

/** Port value that makes nats-server pick a free port itself. */
export const ANY_PORT = -1;

export interface ClusterSpec {
  name: string;
  port: number;
  /** Cluster ports of every member, this one included: the route count sets the JetStream meta group size. */
  routes: number[];
  /** JetStream placement tags of this member (`server_tags`). */
  tags: string[];
}

/** Everything needed to (re)launch one server identically. */
export interface ServerSpec {
  exe: string;
  dir: string;
  name: string;
  options: ResolvedNatsServerOptions;
  /** {@link ANY_PORT} until the first launch reported the real port. */
  clientPort: number;
  cluster?: ClusterSpec;
}

export const CONFIG_FILE = "server.conf";
export const LOG_FILE = "server.log";

function quote(value: string): string {
  return JSON.stringify(value);
}

function clusterBlock(cluster: ClusterSpec): string[] {
  const routes = cluster.routes.map((port) => quote(`nats-route://127.0.0.1:${port}`));
  return [
    "cluster {",
    `  name: ${quote(cluster.name)}`,
    `  listen: ${quote(`127.0.0.1:${cluster.port}`)}`,
    `  routes: [${routes.join(", ")}]`,
    "}",
  ];
}

function tlsBlock(tls: NatsServerTls): string[] {
  return [
    "tls {",
    `  cert_file: ${quote(tls.cert)}`,
    `  key_file: ${quote(tls.key)}`,
    ...(tls.ca ? [`  ca_file: ${quote(tls.ca)}`] : []),
    `  verify: ${tls.verify === true}`,
    "  timeout: 2",
    "}",
  ];
}

/** nats-server config; a file because cluster routes and store_dir are awkward as flags. */
export function renderConfig(spec: ServerSpec): string {
  const lines = [
    `server_name: ${quote(spec.name)}`,
    `listen: ${quote(`127.0.0.1:${spec.clientPort}`)}`,
    // Monitoring is how readiness of a JetStream cluster is observed (/jsz, /routez).
    `http: ${quote(`127.0.0.1:${ANY_PORT}`)}`,
  ];
  if (spec.options.jetstream) lines.push(`jetstream { store_dir: ${quote(spec.dir)} }`);
  if (spec.options.tls) lines.push(...tlsBlock(spec.options.tls));
  if (spec.options.authorization) lines.push(spec.options.authorization);
  if (spec.cluster) {
    lines.push(...clusterBlock(spec.cluster));
    lines.push(`server_tags: [${spec.cluster.tags.map(quote).join(", ")}]`);
  }
  return `${lines.join("\n")}\n`;
}

export function serverArgs(spec: ServerSpec): string[] {
  const logging = spec.options.debug ? ["-D"] : ["-l", join(spec.dir, LOG_FILE)];
  return [
    "-c",
    join(spec.dir, CONFIG_FILE),
    "--ports_file_dir",
    spec.dir,
    ...logging,
    ...spec.options.args,
  ];
}
