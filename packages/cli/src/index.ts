/**
 * The `rookery` operator CLI: `nodes`, `rooms`, `leases`, `presence`,
 * `watch`; `drain`, `undrain`, `move` (admin user); `console`, the live
 * cluster console; and `load`, a load generator built on the client SDK.
 *
 * ```sh
 * NATS_URL=nats://127.0.0.1:4222 npx rookery nodes
 * npx rookery leases --node node-1 --json
 * npx rookery watch presence
 * npx rookery load --url http://127.0.0.1:8080 --secret $SECRET --clients 50 --rooms 10 --rate 5
 * ```
 *
 * Programmatic use (tests, scripts): `await main(["nodes", "--json"], line => lines.push(line))`.
 * The context loader the commands share is in `@rookery/cli/internal`.
 */
export { main } from "./main";
export { runLoad } from "./load";
export type { LoadOptions, LoadReport } from "./load";
export { BucketMissingError } from "./buckets";
export { UsageError } from "./commands";
export { BucketReader } from "./buckets";
export { ClusterConsole, startConsole } from "./console";
export type { ClusterEvent, ConsoleOptions } from "./console";
export { ControlClient, ControlError } from "./control";
export { ContextError } from "./context";
export { readCluster } from "./cluster-view";
export type { ClusterSnapshot, RoomView, ProcessView } from "./cluster-view";

export type { BucketAlias } from "./buckets";
