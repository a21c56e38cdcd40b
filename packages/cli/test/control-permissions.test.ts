/**
 * Issue 14: a node's control subject (`<prefix>.ctl.<node>`: drain, undrain,
 * move) is for the admin NATS user only; the read-only operator user is
 * refused by the server, and the CLI says why.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { rolePermissions, writeNatsAuth, type NatsAuthFiles } from "@rookery/cluster";
import { main as cli } from "@rookery/cli";
import {
  startNatsServer,
  testNamespace,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { startNode } from "../../../services/node/test/nodes";

const prefix = testNamespace("cli control permissions");
let dir: string;
let auth: NatsAuthFiles;
let server: NatsServer;
let node: ChildHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rookery-ctl-auth-"));
  auth = writeNatsAuth(dir, { prefix });
  server = await startNatsServer({ authorization: readFileSync(auth.config, "utf8") });
  node = await startNode(server.url, prefix, "ctl-node", { NATS_NKEY: auth.seeds.node });
}, 60_000);

afterAll(async () => {
  await node?.kill("SIGTERM");
  await server?.[Symbol.asyncDispose]();
  rmSync(dir, { recursive: true, force: true });
});

async function as(seed: string, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await cli(
    ["--server", server.url, "--prefix", prefix, "--nkey", seed, ...args],
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("security - the node control subject", () => {
  test("permissions: only admin and nodes may publish on <prefix>.ctl.*; operator and gateway may not", () => {
    const allowed = (role: "operator" | "gateway" | "admin" | "node") =>
      rolePermissions(role, { prefix }).publish.allow;
    expect(allowed("operator").some((s) => s.startsWith(`${prefix}.`))).toBe(false);
    expect(allowed("gateway")).not.toContain(`${prefix}.ctl.*`);
    expect(allowed("admin")).toContain(`${prefix}.>`);
    expect(allowed("node")).toContain(`${prefix}.ctl.*`);
    expect(rolePermissions("operator", { prefix }).subscribe.allow).toEqual(["_INBOX.>"]);
  });

  test("the operator user cannot drain, undrain or move: refused by the server, exit 1 with the reason", async () => {
    for (const args of [
      ["drain", "ctl-node"],
      ["undrain", "ctl-node"],
    ]) {
      const started = performance.now();
      const run = await as(auth.seeds.operator, ...args);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/need the admin NATS user/);
      expect(performance.now() - started).toBeLessThan(10_000);
    }
    const log = readFileSync(join(server.storeDir, "server.log"), "utf8");
    expect(log).toMatch(new RegExp(`Publish Violation.*${prefix}\\.ctl\\.ctl-node`));
    // Still reads.
    expect((await as(auth.seeds.operator, "rooms")).code).toBe(0);
  });

  test("the admin user reaches the node: undrain succeeds, a drain with no other node is refused by the node", async () => {
    const undrain = await as(auth.seeds.admin, "undrain", "ctl-node");
    expect(undrain).toMatchObject({ code: 0, err: "" });
    const drain = await as(auth.seeds.admin, "drain", "ctl-node");
    expect(drain.code).toBe(1);
    expect(drain.err).toMatch(/no other live node to take the rooms/);
  });
});
