import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Command, CommanderError, Option } from "commander";
import { BUCKETS, BucketReader, type BucketAlias } from "./buckets";
import {
  leasesCommand,
  nodesCommand,
  presenceCommand,
  watchCommand,
  type Output,
} from "./commands";

interface GlobalOptions {
  server?: string;
  prefix: string;
  json?: boolean;
}

type Action = (reader: BucketReader, out: Output, signal: AbortSignal) => Promise<void>;

/** Runs `rookery <command>`; returns the process exit code. */
export async function main(
  argv: string[],
  write = (line: string) => console.log(line),
): Promise<number> {
  let action: Action | undefined;
  const program = buildProgram((a) => (action = a));
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  if (!action) return 0;
  const options = program.opts<GlobalOptions>();
  return run(action, options, write);
}

function buildProgram(select: (action: Action) => void): Command {
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
  return program;
}

async function run(
  action: Action,
  options: GlobalOptions,
  write: (line: string) => void,
): Promise<number> {
  const servers = (options.server ?? "127.0.0.1:4222").split(",");
  let nc: NatsConnection;
  try {
    nc = await connect({ servers, timeout: 3000 });
  } catch (err) {
    console.error(`rookery: cannot connect to ${servers.join(",")}: ${(err as Error).message}`);
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
