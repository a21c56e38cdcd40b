/**
 * Issue 14: the live cluster console in Chromium. Two nodes hold rooms with
 * members; the page shows processes, rooms per node, members and leaders;
 * its Move button moves a room; a node killed with SIGKILL shows down and
 * its rooms move to the survivor, with the re-homing time in the feed; the
 * Drain button hands a node's rooms over without stopping it.
 */
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./browser";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { BucketReader, ControlClient, startConsole } from "@rookery/cli";
import { ClusterMember, RoomRouter } from "@rookery/cluster";
import { InternalKind } from "@rookery/protocol/internal";
import {
  startNatsServer,
  testNamespace,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { memberOf } from "../../services/node/test/load";
import { startNode } from "../../services/node/test/nodes";

const DOCS = new URL("../../docs/", import.meta.url).pathname;
const TOKEN = "console-test-token-0123456789";

let server: NatsServer;
let nc: NatsConnection;
let gateway: ClusterMember;
let router: RoomRouter;
const nodes: Record<string, ChildHandle> = {};
let consoleServer: Awaited<ReturnType<typeof startConsole>>;
let browser: Browser;
const prefix = testNamespace("cluster console");

beforeAll(async () => {
  server = await startNatsServer();
  nodes["con-a"] = await startNode(server.url, prefix, "con-a");
  nodes["con-b"] = await startNode(server.url, prefix, "con-b");
  nc = await connect({ servers: server.url });
  gateway = new ClusterMember(nc, {
    identity: { id: "gw-con", role: "gateway" },
    cluster: { prefix },
    sweeper: false,
  });
  await gateway.start();
  router = new RoomRouter(nc, { prefix });
  for (let i = 0; i < 6; i++) {
    for (const user of i % 2 ? ["ann"] : ["ann", "bob"]) {
      const reply = await router.request("party", `room-${i}`, {
        k: InternalKind.Join,
        member: memberOf(gateway, user),
      });
      expect(reply.k).toBe(InternalKind.Joined);
    }
  }
  consoleServer = await startConsole(
    { reader: new BucketReader(nc, prefix), control: new ControlClient(nc, prefix), log: () => {} },
    { port: 0, token: TOKEN, ttlMs: 3000, pollMs: 500 },
  );
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await consoleServer?.close();
  await gateway?.stop();
  await nc?.close();
  for (const child of Object.values(nodes)) await child.kill("SIGKILL");
  await server?.stop();
});

const rowStatus = (page: Page, node: string) =>
  page.textContent(`tr[data-process="node.${node}"] .status`);
const roomsOf = (page: Page, node: string) =>
  page.$$eval(`table.node-rooms[data-node="${node}"] tr[data-room]`, (rows) =>
    rows.map((r) => r.getAttribute("data-room")),
  );
const feed = (page: Page) => page.$$eval("#events li", (items) => items.map((i) => i.textContent));

describe("cluster console", () => {
  it("console - the API and the page need the operator token", async () => {
    const base = consoleServer.url;
    expect((await fetch(`${base}api/state`)).status).toBe(401);
    const wrong = await fetch(`${base}api/state`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const drain = await fetch(`${base}api/drain`, { method: "POST", body: '{"node":"con-a"}' });
    expect(drain.status).toBe(401);
    expect((await fetch(`${base}favicon.ico`)).status).toBe(204);

    const page = await browser.newPage();
    await page.goto(base);
    await page.waitForSelector("#login:not([hidden])");
    await page.fill("#token", "wrong-token");
    await page.click("#signin");
    await expect.poll(() => page.textContent("#login-error")).toContain("refused");
    expect(await page.isVisible("#app")).toBe(false);
    await page.close();
  });

  it("console - processes, rooms per node with members and leader; Move; a node killed -9 shows down and its rooms move; Drain", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.goto(consoleServer.url);
    await page.fill("#token", TOKEN);
    await page.click("#signin");
    await page.waitForSelector('tr[data-process="node.con-a"]');
    await expect.poll(() => rowStatus(page, "con-a")).toBe("up");
    await expect.poll(() => rowStatus(page, "con-b")).toBe("up");
    expect(await page.textContent('tr[data-process="gateway.gw-con"]')).toContain("gateway");
    await expect
      .poll(
        async () => (await roomsOf(page, "con-a")).length + (await roomsOf(page, "con-b")).length,
      )
      .toBe(6);
    const row0 = page.locator('tr[data-room="party/room-0"]');
    expect(await row0.locator("td.members").textContent()).toBe("2: ann, bob");
    expect(await row0.locator("td.leader").textContent()).toBe("ann");

    // Move: room-0 to the other node, with the button.
    const from = (await roomsOf(page, "con-a")).includes("party/room-0") ? "con-a" : "con-b";
    const to = from === "con-a" ? "con-b" : "con-a";
    await row0.locator("select.move-to").selectOption(to);
    await row0.locator("button.move").click();
    await expect.poll(() => roomsOf(page, to), { timeout: 15_000 }).toContain("party/room-0");
    await expect
      .poll(() => feed(page), { timeout: 10_000 })
      .toContainEqual(expect.stringContaining(`room party/room-0 moved ${from} → ${to}`));

    // kill -9 con-a: the page shows it down, then its rooms on con-b.
    const onA = await roomsOf(page, "con-a");
    expect(onA.length).toBeGreaterThan(0);
    await nodes["con-a"]!.kill("SIGKILL");
    await expect.poll(() => rowStatus(page, "con-a"), { timeout: 15_000 }).toBe("down");
    await expect
      .poll(() => feed(page), { timeout: 10_000 })
      .toContainEqual(expect.stringMatching(/node con-a down \(no heartbeat/));
    await expect
      .poll(() => roomsOf(page, "con-b"), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(onA));
    await expect
      .poll(() => feed(page), { timeout: 15_000 })
      .toContainEqual(
        expect.stringMatching(
          new RegExp(
            `${onA.length} room\\(s\\) of con-a re-homed to con-b \\(${onA.length}\\) \\d+\\.\\d s after its last heartbeat`,
          ),
        ),
      );
    expect(await roomsOf(page, "con-a")).toEqual([]);
    expect(await page.textContent('tr[data-room="party/room-0"] td.members')).toBe("2: ann, bob");

    mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: `${DOCS}console.png`, fullPage: true });

    // Drain con-b with the button, onto a new node: it keeps running, its rooms move.
    nodes["con-c"] = await startNode(server.url, prefix, "con-c");
    await expect.poll(() => rowStatus(page, "con-c"), { timeout: 15_000 }).toBe("up");
    await page.click('button.drain[data-node="con-b"]');
    await expect
      .poll(() => feed(page), { timeout: 20_000 })
      .toContainEqual(
        expect.stringMatching(/drain of con-b finished: 6 room\(s\) handed over, 0 failed/),
      );
    expect(await feed(page)).toContainEqual(
      expect.stringMatching(/drain of con-b started: 6 room/),
    );
    await expect.poll(() => roomsOf(page, "con-c"), { timeout: 10_000 }).toHaveLength(6);
    await expect.poll(() => rowStatus(page, "con-b")).toMatch(/^draining/);
    await page.click('button.undrain[data-node="con-b"]');
    await expect.poll(() => rowStatus(page, "con-b"), { timeout: 10_000 }).toBe("up");
    expect(errors).toEqual([]);
    await page.close();
  });
});
