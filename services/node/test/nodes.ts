import { decodeServerFrame, ServerKind, type Value } from "@rookery/protocol";
import type { RoomEvent } from "@rookery/protocol/internal";
import { serviceEntry, spawnChild, type ChildHandle } from "@rookery/testkit";

export const fixtures = new URL("../../../packages/actors/test/fixtures/rooms.ts", import.meta.url)
  .pathname;

/** Starts a real node process hosting the test room types; resolves once it is ready. */
export async function startNode(
  url: string,
  prefix: string,
  id: string,
  env: Record<string, string> = {},
): Promise<ChildHandle> {
  const child = await spawnChild({
    script: serviceEntry("node"),
    env: {
      NATS_URL: url,
      ROOKERY_ID: id,
      ROOKERY_PREFIX: prefix,
      ROOKERY_ROOM_MODULES: fixtures,
      ROOKERY_METRICS_PORT: "0",
      ROOKERY_LOG_LEVEL: "warn",
      ...env,
    },
  });
  await child.waitForLine(/"event":"ready"/, 20_000);
  return child;
}

/** The body of a room event, from the client frame it carries. */
export function eventBody(event: RoomEvent): Value {
  const decoded = decodeServerFrame(event.frame);
  if (!decoded.ok || decoded.frame.k !== ServerKind.Event) throw new Error("not an event frame");
  return decoded.frame.body;
}
