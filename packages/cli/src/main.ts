import type { NatsConnection } from "@nats-io/transport-node";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { connectNats, natsAuthFromEnv, type NatsAuth } from "@rookery/cluster";
import type { Value } from "@rookery/protocol";
import { BUCKETS, BucketReader, type BucketAlias } from "./buckets";
import {
  leasesCommand,
  nodesCommand,
  presenceCommand,
  watchCommand,
  type Output,
} from "./commands";
import { formatLoadReport, runLoad, type LoadOptions } from "./load";

interface GlobalOptions {
  server?: string;
  prefix: string;
  json?: boolean;
  creds?: string;
  nkey?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** Connection flags and the variable each falls back to (docs/security.md). */
const CONNECTION_FLAGS = [
  ["creds", "--creds <file>", "NATS_CREDS", "NATS credentials file (.creds)"],
  ["nkey", "--nkey <file>", "NATS_NKEY", "file holding the NATS user's nkey seed"],
  ["tlsCa", "--tls-ca <file>", "NATS_TLS_CA", "CA certificate (PEM) that signed the server's"],
  ["tlsCert", "--tls-cert <file>", "NATS_TLS_CERT", "client certificate (PEM), for mutual TLS"],
  ["tlsKey", "--tls-key <file>", "NATS_TLS_KEY", "key of the client certificate (PEM)"],
] as const;

type Action = (reader: BucketReader, out: Output, signal: AbortSignal) => Promise<void>;

/** Runs `rookery <command>`; returns the process exit code. */
export async function main(
  argv: string[],
  write = (line: string) => console.log(line),
): Promise<number> {
  let action: Action | undefined;
  let load: LoadOptions | undefined;
  const program = buildProgram(
    (a) => (action = a),
    (o) => (load = o),
  );
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  if (load) return runLoadCommand(load, write);
  if (!action) return 0;
  const options = program.opts<GlobalOptions>();
  return run(action, options, write);
}

function buildProgram(
  select: (action: Action) => void,
  selectLoad: (options: LoadOptions) => void,
): Command {
  const program = new Command("rookery")
    .description(
      "Inspect a Rookery cluster: processes, room leases, presence, live bucket changes.",
    )
    .addOption(
      new Option("-s, --server <url>", "NATS server URL(s), comma separated").env("NATS_URL"),
    )
    .option("-p, --prefix <prefix>", "bucket and subject namespace", "rk")
    .option("--json", "print JSON instead of tables")
    .exitOverride();
  for (const [, flag, env, description] of CONNECTION_FLAGS) {
    program.addOption(new Option(flag, description).env(env));
  }
  program
    .command("nodes")
    .description("live processes: role, region, load, age")
    .action(() => {
      select((reader, out) => nodesCommand(reader, out));
    });
  program
    .command("leases")
    .description("room leases: owner, owner epoch, room epoch")
    .option("-n, --node <id>", "only leases held by this node")
    .action((opts: { node?: string }) =>
      select((reader, out) => leasesCommand(reader, out, opts.node)),
    );
  program
    .command("presence <room>")
    .description("members of a room, given as <type>/<id>")
    .action((room: string) => select((reader, out) => presenceCommand(reader, out, room)));
  program
    .command("watch <bucket>")
    .description(`live tail of a bucket (${BUCKETS.join(", ")}), values decoded from MessagePack`)
    .action((bucket: string) => {
      if (!BUCKETS.includes(bucket as BucketAlias)) {
        throw new CommanderError(
          2,
          "rookery.bucket",
          `unknown bucket ${bucket}: use ${BUCKETS.join(", ")}`,
        );
      }
      select((reader, out, signal) => watchCommand(reader, out, bucket as BucketAlias, signal));
    });
  program
    .command("load")
    .description(
      "load generator: N clients over M rooms sending inputs at a rate; prints throughput and latency",
    )
    .addOption(
      new Option("-u, --url <url>", "gateway http(s) URL (discovery) or ws(s) URL")
        .env("ROOKERY_URL")
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--secret <secret>", "token secret of the gateways")
        .env("ROOKERY_TOKEN_SECRET")
        .makeOptionMandatory(),
    )
    .option("-c, --clients <n>", "clients", positive, 10)
    .option("-r, --rooms <n>", "rooms the clients are spread over", positive, 2)
    .option("--rate <n>", "inputs per second per client", positive, 5)
    .option("-d, --duration <s>", "seconds of load", positive, 10)
    .option("-t, --type <type>", "room type", "party")
    .option("-i, --input <type>", "input type (default for party: add, then remove)")
    .option("-q, --queue", "the room type is a party queue: alternate add and remove")
    .option("-b, --body <json>", "input body as JSON", json)
    .action((opts: LoadOptions) => selectLoad(opts));
  return program;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number");
  return n;
}

function json(value: string): Value {
  try {
    return JSON.parse(value) as Value;
  } catch {
    throw new InvalidArgumentError("expected JSON");
  }
}

async function runLoadCommand(
  options: LoadOptions,
  write: (line: string) => void,
): Promise<number> {
  try {
    write(formatLoadReport(await runLoad(options)));
    return 0;
  } catch (err) {
    console.error(`rookery load: ${(err as Error).message}`);
    return 1;
  }
}

async function run(
  action: Action,
  options: GlobalOptions,
  write: (line: string) => void,
): Promise<number> {
  const servers = (options.server ?? "127.0.0.1:4222").split(",");
  let nc: NatsConnection;
  try {
    nc = await connectNats(connectionAuth(options), { servers, timeout: 3000 });
  } catch (err) {
    console.error(`rookery: ${(err as Error).message}`);
    return 1;
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    await action(
      new BucketReader(nc, options.prefix),
      { json: options.json === true, write },
      abort.signal,
    );
    return 0;
  } catch (err) {
    console.error(`rookery: ${(err as Error).message}`);
    return 1;
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    await nc.close();
  }
}

/** Credentials and TLS from the flags (or their variables), checked like a service's. */
function connectionAuth(options: GlobalOptions): NatsAuth {
  const env: NodeJS.ProcessEnv = {};
  for (const [field, , name] of CONNECTION_FLAGS) env[name] = options[field];
  return natsAuthFromEnv(env, undefined, (message) => {
    for (const [, flag, name] of CONNECTION_FLAGS) {
      message = message.replaceAll(name, flag.split(" ")[0]!);
    }
    return new Error(message);
  });
}
