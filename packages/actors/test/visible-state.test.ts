import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InternalKind } from "@rookery/protocol/internal";
import { startNatsServer, testNamespace, type NatsServer } from "@rookery/testkit";
import { Cluster, expectKind } from "./helpers";

describe("visible state", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("visible state - a joining member's snapshot shows only what visibleState lets it see", async () => {
    const cluster = new Cluster(server.url, testNamespace("visible state filter"));
    try {
      await cluster.node("n1");
      const router = await cluster.router();
      const member = await cluster.gateway();
      const join = async (user: string) =>
        expectKind(
          await router.request("secret", "t", { k: InternalKind.Join, member: member(user) }),
          InternalKind.Joined,
        );
      expect((await join("ann")).state).toEqual({ mine: "card-of-ann", players: 1 });
      const ben = await join("ben");
      expect(ben.state).toEqual({ mine: "card-of-ben", players: 2 });
      expect(JSON.stringify(ben)).not.toContain("card-of-ann");
    } finally {
      await cluster.close();
    }
  });
});
