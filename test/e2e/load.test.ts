import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type LoadReport } from "@rookery/cli";
import {
  startNatsServer,
  testNamespace,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import type { Gateway } from "@rookery/gateway";
import { startNode } from "../../services/node/test/nodes";
import { SECRET, startGateway } from "../../services/gateway/test/harness";

let server: NatsServer;
let node: ChildHandle;
let gateway: Gateway;

beforeAll(async () => {
  server = await startNatsServer();
  const prefix = testNamespace("load generator");
  node = await startNode(server.url, prefix, "node-load");
  gateway = await startGateway(server.url, prefix, { id: "gw-load" });
});
afterAll(async () => {
  await gateway?.stop();
  await node?.kill("SIGKILL");
  await server?.stop();
});

describe("load generator", () => {
  it("load - N clients over M rooms at a rate: prints throughput and latency percentiles", async () => {
    const lines: string[] = [];
    const argv = ["load", "--url", `http://127.0.0.1:${gateway.port}`, "--secret", SECRET];
    const code = await main([...argv, "-c", "6", "-r", "3", "--rate", "10", "-d", "2"], (l) =>
      lines.push(l),
    );
    expect(code).toBe(0);
    const output = lines.join("\n");
    expect(output).toMatch(/ACKED\/S/);
    const report = (JSON.parse(output.split("\n").at(-1)!) as { load: LoadReport }).load;
    expect(report).toMatchObject({ clients: 6, rooms: 3, errors: {}, reconnects: 0 });
    expect(report.acked).toBe(report.sent);
    expect(report.sent).toBeGreaterThanOrEqual(6 * 10 * 2 * 0.8);
    expect(report.latencyMs.p99).toBeGreaterThan(0);
  });

  it("load - a missing secret is a usage error", async () => {
    const code = await main(["load", "--url", "http://127.0.0.1:1"], () => undefined);
    expect(code).not.toBe(0);
  });
});
