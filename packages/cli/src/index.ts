/**
 * The `rookery` operator CLI: `nodes`, `leases`, `presence`, `watch`.
 *
 * ```sh
 * NATS_URL=nats://127.0.0.1:4222 npx rookery nodes
 * npx rookery leases --node node-1 --json
 * npx rookery watch presence
 * ```
 *
 * Programmatic use (tests, scripts): `await main(["nodes", "--json"], line => lines.push(line))`.
 */
export { main } from "./main";
export { BucketMissingError } from "./buckets";
export { UsageError } from "./commands";

export type { BucketAlias } from "./buckets";
