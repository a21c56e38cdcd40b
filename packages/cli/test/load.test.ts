import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startNatsServer, testNamespace, type NatsServer } from "@rookery/testkit";
import { RawClient, SECRET } from "../../../services/gateway/test/harness";
import type { RookeryServer } from "../../../services/server/src/index";
import { requestPaths, startServer } from "../../../services/server/test/servers";
import { runLoad } from "../src/load";

/** The gateway's HTTP base (discovery, metrics) from its WebSocket URL. */
const httpBase = (s: RookeryServer) => {
  const { host } = new URL(s.gateway!.url);
  return `http://${host}`;
};

describe("rookery load", () => {
  let nats: NatsServer;
  const servers: RookeryServer[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    const prefix = testNamespace("load room affine");
    for (const id of ["p1", "p2"]) servers.push(await startServer(nats.url, prefix, id));
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await nats?.stop();
  });

  test("load - through discovery, every client reaches its room's process: only a room's placing join crosses NATS", async () => {
    // Two of the four rooms start on p2; runLoad asks p1's discovery for every client.
    const early = await RawClient.connect(servers[1]!.gateway!.url, "early");
    for (const id of ["affine-1", "affine-3"]) await early.join("party", id);
    const report = await runLoad({
      url: httpBase(servers[0]!),
      secret: SECRET,
      clients: 12,
      rooms: 4,
      rate: 5,
      duration: 2,
      roomPrefix: "affine",
    });
    expect(report.errors).toEqual({});
    expect(report.acked).toBeGreaterThan(0);
    const paths = await Promise.all(
      servers.map((s) => requestPaths(Number(new URL(s.gateway!.url).port))),
    );
    // A room's first join goes through placement (counted as over NATS), which starts it where its
    // joiner is connected; every other request is served in-process.
    expect(paths.reduce((sum, p) => sum + p.nats, 0)).toBeLessThanOrEqual(4);
    expect(paths.reduce((sum, p) => sum + p.local, 0)).toBeGreaterThan(report.acked);
    expect(paths[1]!.local).toBeGreaterThan(report.acked / 4);
    early.close();
  });
});
