/**
 * Fresh nkey users, one per role, written as seed files next to the
 * `authorization` block that lists their public keys: what `npm start`
 * generates for its own run, what `scripts/gen-secrets.mjs` generates for
 * compose, and what tests use (docs/security.md).
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createUser } from "@nats-io/nkeys";
import {
  NATS_USER_ROLES,
  renderAuthorization,
  type NatsUserRole,
  type PermissionScope,
} from "./permissions";

/** One generated user. */
export interface NatsRoleKey {
  role: NatsUserRole;
  /** Public nkey (`U…`), listed in the server config. */
  publicKey: string;
  /** Seed (`SU…`): the secret the process presents. */
  seed: string;
}

/** A new user nkey for each role. */
export function createRoleKeys(roles: readonly NatsUserRole[] = NATS_USER_ROLES): NatsRoleKey[] {
  return roles.map((role) => {
    const kp = createUser();
    return {
      role,
      publicKey: kp.getPublicKey(),
      seed: new TextDecoder().decode(kp.getSeed()),
    };
  });
}

/** Paths written by {@link writeNatsAuth}. */
export interface NatsAuthFiles {
  /** The `authorization { … }` block, for `include` in a server config. */
  config: string;
  /** Seed file of each role (`<dir>/<role>.nk`, mode 0600): a process's `NATS_NKEY`. */
  seeds: Record<NatsUserRole, string>;
  keys: NatsRoleKey[];
}

/**
 * Generates one user per role into `dir`: `<role>.nk` seed files (0600) and
 * `auth.conf` (the server's authorization block for `scope`).
 */
export function writeNatsAuth(dir: string, scope?: PermissionScope): NatsAuthFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = createRoleKeys();
  const seeds = {} as Record<NatsUserRole, string>;
  for (const key of keys) {
    const path = join(dir, `${key.role}.nk`);
    writeFileSync(path, `${key.seed}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    seeds[key.role] = path;
  }
  const config = join(dir, "auth.conf");
  const header = "# Generated: one nkey user per Rookery role (docs/security.md). Do not commit.\n";
  writeFileSync(
    config,
    header +
      renderAuthorization(
        keys.map((k) => ({ role: k.role, nkey: k.publicKey })),
        scope,
      ),
    { mode: 0o600 },
  );
  return { config, seeds, keys };
}
