import { existsSync } from "node:fs";
import { expect, test } from "vitest";
import { findNatsServer, NatsServerNotFoundError } from "../src/index";
import { locateNatsServer } from "../src/find-server";

test("testkit - findNatsServer finds the installed nats-server", () => {
  expect(existsSync(findNatsServer())).toBe(true);
});

test("testkit - findNatsServer explains how to install nats-server when it is missing", () => {
  let error: unknown;
  try {
    locateNatsServer("", ["/nonexistent/sbin/nats-server"]);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(NatsServerNotFoundError);
  const notFound = error as NatsServerNotFoundError;
  expect(notFound.code).toBe("NATS_SERVER_NOT_FOUND");
  expect(notFound.name).toBe("NatsServerNotFoundError");
  expect(notFound.message).not.toContain("\n");
  expect(notFound.message).toContain("apt-get install -y nats-server");
  expect(notFound.message).toContain("PATH");
  expect(notFound.message).toContain("/nonexistent/sbin/nats-server");
});
