/**
 * @rookery/testkit: real nats-server processes (single or clustered, JetStream on) and helpers
 * for tests and benchmarks. Nothing is mocked; every server lives in its own temp dir on free
 * loopback ports and is killed when the test process exits.
 *
 * @example
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { Kvm } from "@nats-io/kv";
 * import { startNatsServer, testNamespace, until } from "@rookery/testkit";
 *
 * await using server = await startNatsServer();
 * const nc = await connect({ servers: server.url });
 * const kv = await new Kvm(nc).create(testNamespace("lease takeover"));
 * await server.kill();
 * await server.restart(); // same port and store: clients reconnect, data is still there
 * await until(() => kv.get("k"), 5_000, "key readable after restart");
 * ```
 */
export {
  ChildExitedError,
  ChildLineTimeoutError,
  ChildSpawnError,
  NatsClusterStartError,
  NatsServerNotFoundError,
  NatsServerStartError,
  UntilTimeoutError,
} from "./errors";
export { findNatsServer } from "./find-server";
export { NatsCluster, reservePorts, startNatsCluster } from "./nats-cluster";
export { NatsServer, startNatsServer } from "./nats-server";
export { testNamespace } from "./namespace";
export { defaultNatsServerOptions } from "./server-config";
export type { NatsServerOptions, NatsServerTls, ResolvedNatsServerOptions } from "./server-config";
export { serviceEntry } from "./service-entry";
export type { ServiceName } from "./service-entry";
export { spawnChild } from "./spawn-child";
export { makeTestCa } from "./tls";
export type { TestCa } from "./tls";
export type { ChildHandle, SpawnChildOptions } from "./spawn-child";
export { until } from "./until";
