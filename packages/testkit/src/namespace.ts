/** Per-test identifiers so tests sharing a server never see each other's subjects or buckets. */
import { createHash } from "node:crypto";

const MAX_SLUG = 32;

/**
 * A stable, short identifier derived from a test title, safe as a NATS subject token and as a
 * KV bucket-name prefix: lowercase `[a-z0-9_]`, a truncated slug plus a 4-hex hash of the full
 * title, e.g. `lease_takeover_after_owner_dies_3fa2`. Same title, same namespace.
 */
export function testNamespace(title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .slice(0, MAX_SLUG)
    .replace(/^_+|_+$/g, "");
  const hash = createHash("sha256").update(title).digest("hex").slice(0, 4);
  return `${slug || "ns"}_${hash}`;
}
