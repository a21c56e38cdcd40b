import { describe, expect, it } from "vitest";
import { serverPerFile } from "./suite";
import { testNamespace, until } from "@rookery/testkit";
import { startNode } from "../../node/test/nodes";
import type { Gateway } from "../src/index";
import { newSession, RawClient, startGateway } from "./harness";

const suite = serverPerFile();

async function gateway(prefix: string, id: string, region: string): Promise<Gateway> {
  const gw = await startGateway(suite.server.url, prefix, { id, region });
  suite.defer(() => gw.stop());
  return gw;
}

const get = async (gw: Gateway, path: string) => {
  const res = await fetch(`http://127.0.0.1:${gw.port}${path}`);
  return { status: res.status, body: await res.text() };
};

describe("gateway http", () => {
  it("discovery - same region first, then lowest load; exclude skips; only live gateways", async () => {
    const prefix = testNamespace("discovery - region load exclude");
    const eu1 = await gateway(prefix, "eu-1", "eu");
    const eu2 = await gateway(prefix, "eu-2", "eu");
    const us1 = await gateway(prefix, "us-1", "us");
    const busy = await RawClient.connect(eu1.url, "busy");
    suite.defer(() => busy.close());
    const pick = async (query: string) => JSON.parse((await get(us1, `/discover${query}`)).body);
    await until(
      async () => (await pick("?region=eu")).gateway === "eu-2",
      10_000,
      "eu-2 is least loaded",
    );
    expect(await pick("?region=eu")).toEqual({ url: eu2.url, gateway: "eu-2", region: "eu" });
    expect((await pick("?region=eu&exclude=eu-2")).gateway).toBe("eu-1");
    expect((await pick("?region=us")).gateway).toBe("us-1");
    expect((await pick("?region=ap&exclude=us-1")).region).toBe("eu");
    await eu2.stop();
    await until(async () => (await pick("?region=eu")).gateway === "eu-1", 10_000, "eu-2 gone");
    const none = await get(us1, "/discover?exclude=eu-1,us-1");
    expect(none.status).toBe(503);
    expect(JSON.parse(none.body)).toEqual({ error: "no gateway available" });
  });

  it("health - healthz, readyz and metrics; readyz turns 503 while draining", async () => {
    const prefix = testNamespace("health - healthz readyz metrics");
    const gw = await startGateway(suite.server.url, prefix, { drainMs: 1500 });
    suite.defer(() => gw.stop());
    expect((await get(gw, "/healthz")).status).toBe(200);
    expect((await get(gw, "/readyz")).status).toBe(200);
    const metrics = await get(gw, "/metrics");
    expect(metrics.body).toContain("rookery_gateway_connections");
    expect(metrics.body).toMatch(
      /rookery_gateway_build_info\{version="0.1.0",node_version="v20[^"]*"\} 1/,
    );
    expect(metrics.body).toContain("rookery_gateway_fanout_seconds");
    const c = await RawClient.connect(gw.url, "drainee");
    suite.defer(() => c.close());
    const stopping = gw.stop();
    await c.next("reconnect");
    expect((await get(gw, "/readyz")).status).toBe(503);
    await stopping;
  });

  it("presence - a closed socket leaves after the grace; a resume within it keeps the member", async () => {
    const prefix = testNamespace("presence - disconnect grace");
    const node = await startNode(suite.server.url, prefix, "node-grace");
    suite.defer(() => node.kill("SIGKILL"));
    const gw = await startGateway(suite.server.url, prefix, { reconnectGraceMs: 1000 });
    suite.defer(() => gw.stop());
    const watcher = await RawClient.connect(gw.url, "watcher");
    suite.defer(() => watcher.close());
    await watcher.join("party", "g");

    const session = newSession();
    const resumer = await RawClient.connect(gw.url, "resumer", session);
    await resumer.join("party", "g");
    const leaver = await RawClient.connect(gw.url, "leaver");
    await leaver.join("party", "g");
    await until(() => watcher.memberIds("party/g").length === 3, 5000, "three members");

    resumer.close();
    leaver.close();
    const again = await RawClient.connect(gw.url, "resumer", session);
    suite.defer(() => again.close());
    const resumed = await again.join("party", "g");
    expect(resumed.members.map((m) => m.id)).toContain(again.member);

    const left = (await watcher.next((f) => f.k === "event" && f.type === "$leave", 5000)) as {
      body: unknown;
    };
    expect(left.body).toEqual({ id: leaver.member, reason: "disconnected" });
    await until(() => watcher.memberIds("party/g").length === 2, 5000, "leaver gone");
    expect(watcher.memberIds("party/g")).toEqual([watcher.member, again.member].sort());
    // The resumer's stale leave went out before this input, on the same connection: it was ignored.
    await watcher.input("party", "g", "add", { title: "after" });
    expect(watcher.events("$leave").length).toBe(1);
  });
});
