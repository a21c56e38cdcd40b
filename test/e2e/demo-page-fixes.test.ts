/**
 * Issue 14, the demo page's bugs, in Chromium at desktop and phone width:
 * the room-name pattern is valid (so the check is on), 128 characters like
 * the server, a readable message for a bad name, no overflow at 390 px, the
 * joined room's name shown, a Leave button, no favicon 404.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./browser";
import {
  startNatsServer,
  testNamespace,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import type { Gateway } from "@rookery/gateway";
import { startNode } from "../../services/node/test/nodes";
import { startGateway } from "../../services/gateway/test/harness";

const HELP = /1 to 128 letters, digits, underscores, equals signs or hyphens/;

let server: NatsServer;
let node: ChildHandle;
let gateway: Gateway;
let browser: Browser;

beforeAll(async () => {
  server = await startNatsServer();
  const prefix = testNamespace("demo page fixes");
  node = await startNode(server.url, prefix, "node-demo-fix");
  gateway = await startGateway(server.url, prefix, { id: "gw-demo-fix", demo: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await node?.kill("SIGKILL");
  await server?.stop();
});

const widths = [
  ["desktop", { width: 1280, height: 800 }],
  ["phone", { width: 390, height: 844 }],
] as const;

async function open(viewport: { width: number; height: number }) {
  const page = await (await browser.newContext({ viewport })).newPage();
  const notFound: string[] = [];
  const errors: string[] = [];
  page.on("response", (r) => r.status() >= 400 && notFound.push(`${r.status()} ${r.url()}`));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(`http://127.0.0.1:${gateway.port}/`);
  return { page, notFound, errors };
}

const overflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe("demo page fixes", () => {
  for (const [label, viewport] of widths) {
    it(`demo - ${label}: the room pattern is on, says what is wrong in words, and allows 128 characters`, async () => {
      const { page, errors } = await open(viewport);
      const room = page.locator("#room");
      await room.fill("bad id!");
      expect(await room.evaluate((el: HTMLInputElement) => el.validity.patternMismatch)).toBe(true);
      await page.fill("#name", "Ann");
      await page.click("#join");
      const message = await room.evaluate((el: HTMLInputElement) => el.validationMessage);
      expect(message).toMatch(HELP);
      expect(message).not.toMatch(/[[\]{}^$]/);
      expect(await page.isVisible("#room-help")).toBe(true);
      expect(await page.isVisible("#room-view")).toBe(false);
      expect(await room.getAttribute("maxlength")).toBe("128");
      await room.fill("a".repeat(128));
      expect(await room.evaluate((el: HTMLInputElement) => el.checkValidity())).toBe(true);
      expect(await page.isVisible("#room-help")).toBe(false);
      expect(await overflow(page)).toBeLessThanOrEqual(0);
      expect(errors).toEqual([]);
      await page.context().close();
    });

    it(`demo - ${label}: joins a 128-character room, shows its name, fits the width, Leave goes back; no 404`, async () => {
      const { page, notFound, errors } = await open(viewport);
      const id = `r${label}${"x".repeat(128 - 1 - label.length)}`;
      await page.fill("#name", "Ann");
      await page.fill("#room", id);
      await page.click("#join");
      await page.waitForSelector("#room-view:not([hidden])", { timeout: 15_000 });
      expect(await page.textContent("#room-name")).toBe(id);
      await page.waitForFunction(() => document.querySelectorAll("#members li").length === 1);
      await page.fill("#title", "A song with a rather long title that should wrap on a phone");
      await page.click("#add");
      await page.waitForFunction(() => document.querySelectorAll("#queue li").length === 1);
      expect(await overflow(page)).toBeLessThanOrEqual(0);
      if (label === "phone") {
        // One column: the queue is below the members, not beside them.
        const members = await page.locator("#members").boundingBox();
        const queue = await page.locator("#queue").boundingBox();
        expect(queue!.y).toBeGreaterThan(members!.y);
        await page.screenshot({
          path: new URL("../../test-results/demo-phone.png", import.meta.url).pathname,
          fullPage: true,
        });
      }
      await page.click("#leave");
      await page.waitForSelector("#join-form:not([hidden])");
      expect(await page.isVisible("#room-view")).toBe(false);
      expect(await page.textContent("#status")).toBe("not connected");
      expect(notFound).toEqual([]);
      expect(errors).toEqual([]);
      await page.context().close();
    });
  }
});
