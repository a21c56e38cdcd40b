import { pino } from "pino";
import { serviceEntry, spawnChild, type ChildHandle } from "@rookery/testkit";
import { loadRooms } from "@rookery/node";
import { RookeryServer, serverConfigFromEnv } from "../src/index";
import { SECRET } from "../../gateway/test/harness";

function env(url: string | string[], prefix: string, id: string, extra: Record<string, string>) {
  return {
    NATS_URL: Array.isArray(url) ? url.join(",") : url,
    ROOKERY_ID: id,
    ROOKERY_PREFIX: prefix,
    ROOKERY_TOKEN_SECRET: SECRET,
    ROOKERY_GATEWAY_HOST: "127.0.0.1",
    ROOKERY_GATEWAY_PORT: "0",
    ROOKERY_METRICS_PORT: "0",
    ROOKERY_RECONNECT_GRACE_MS: "1000",
    ...extra,
  };
}

/** A co-located process (gateway and node roles) in this test process: real sockets, real NATS. */
export async function startServer(
  url: string | string[],
  prefix: string,
  id: string,
  extra: Record<string, string> = {},
): Promise<RookeryServer> {
  const config = serverConfigFromEnv(env(url, prefix, id, extra));
  const server = new RookeryServer(
    config,
    await loadRooms(config.node.roomModules),
    pino({ level: "silent" }),
  );
  await server.start();
  return server;
}

/** A co-located process as a child process, for kill -9 and SIGSTOP. */
export async function startServerProcess(
  url: string | string[],
  prefix: string,
  id: string,
  extra: Record<string, string> = {},
): Promise<{ child: ChildHandle; url: string; port: number }> {
  const child = await spawnChild({
    script: serviceEntry("server"),
    env: { ROOKERY_LOG_LEVEL: "warn", ...env(url, prefix, id, extra) },
  });
  const ready = JSON.parse(await child.waitForLine(/"event":"ready"/, 20_000)) as {
    url: string;
    port: number;
  };
  return { child, url: ready.url, port: ready.port };
}

/** Room requests a gateway served in-process and over NATS, from its `/metrics`. */
export async function requestPaths(port: number): Promise<{ local: number; nats: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const read = (path: string) =>
    Number(
      new RegExp(`rookery_gateway_room_requests_total\\{path="${path}"\\} (\\d+)`).exec(
        text,
      )?.[1] ?? 0,
    );
  return { local: read("local"), nats: read("nats") };
}
