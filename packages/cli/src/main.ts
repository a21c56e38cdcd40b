import type { NatsConnection } from "@nats-io/transport-node";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { connectNats, natsAuthFromEnv, type NatsAuth } from "@rookery/cluster";
import type { Value } from "@rookery/protocol";
import { BUCKETS, BucketReader } from "./buckets";
import {
  drainCommand,
  leasesCommand,
  moveCommand,
  nodesCommand,
  parseBuckets,
  presenceCommand,
  roomsCommand,
  undrainCommand,
  UsageError,
  watchCommand,
  type CommandContext,
} from "./commands";
import { startConsole, type ConsoleOptions } from "./console";
import { loadContext, type NatsContext } from "./context";
import { ControlClient } from "./control";
import { formatLoadReport, runLoad, type LoadOptions } from "./load";

/** Version of the CLI (`rookery --version`). */
export const VERSION = "0.1.0";

/** Exit codes: 0 done, 1 the command failed (connection, cluster, node), 2 bad usage. */
export const ExitCode = { Ok: 0, Error: 1, Usage: 2 } as const;

interface GlobalOptions {
  server?: string;
  prefix: string;
  json?: boolean;
  context?: string;
  creds?: string;
  nkey?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** Connection flags, the variable each falls back to (docs/security.md), and the context field. */
const CONNECTION_FLAGS = [
  ["creds", "--creds <file>", "NATS_CREDS", "NATS credentials file (.creds)", "creds"],
  ["nkey", "--nkey <file>", "NATS_NKEY", "file holding the NATS user's nkey seed", "nkey"],
  [
    "tlsCa",
    "--tls-ca <file>",
    "NATS_TLS_CA",
    "CA certificate (PEM) that signed the server's",
    "ca",
  ],
  [
    "tlsCert",
    "--tls-cert <file>",
    "NATS_TLS_CERT",
    "client certificate (PEM), for mutual TLS",
    "cert",
  ],
  ["tlsKey", "--tls-key <file>", "NATS_TLS_KEY", "key of the client certificate (PEM)", "key"],
] as const;

type Action = (context: CommandContext) => Promise<void>;

/** What the command line asked for, once parsed. */
type Selected =
  | { kind: "nats"; action: Action }
  | { kind: "load"; options: LoadOptions }
  | { kind: "console"; options: ConsoleOptions };

/**
 * Runs `rookery <command>`; returns the process exit code (0 ok, 1 error,
 * 2 usage), having printed a message for every failure on stderr.
 */
export async function main(
  argv: string[],
  write = (line: string) => console.log(line),
  error = (line: string) => console.error(line),
): Promise<number> {
  let selected: Selected | undefined;
  const program = buildProgram((s) => (selected = s));
  program.configureOutput({
    writeOut: (text) => write(text.replace(/\n$/, "")),
    writeErr: (text) => error(text.replace(/\n$/, "")),
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return ExitCode.Ok; // --help, --version
      // Commander printed its own message; ours (thrown from actions) are printed here.
      if (err.code.startsWith("rookery.")) error(`rookery: ${err.message}`);
      error("run `rookery --help` for usage");
      return ExitCode.Usage;
    }
    if (err instanceof UsageError) {
      error(`rookery: ${err.message}`);
      return ExitCode.Usage;
    }
    throw err;
  }
  if (!selected) {
    error("rookery: no command given");
    error(program.helpInformation().trimEnd());
    return ExitCode.Usage;
  }
  const chosen = selected as Selected;
  if (chosen.kind === "load") return runLoadCommand(chosen.options, write, error);
  return run(chosen, program.opts<GlobalOptions>(), write, error);
}

function usage(message: string): never {
  throw new CommanderError(2, "rookery.usage", message);
}

function buildProgram(select: (selected: Selected) => void): Command {
  const nats = (action: Action) => select({ kind: "nats", action });
  const program = new Command("rookery")
    .description(
      "Inspect and steer a Rookery cluster: processes, rooms, leases, presence, live bucket changes; drain and move.",
    )
    .version(VERSION, "-V, --version", "print the version and exit")
    .addOption(
      new Option("-s, --server <url>", "NATS server URL(s), comma separated").env("NATS_URL"),
    )
    .addOption(
      new Option(
        "--context <name>",
        "NATS CLI context (~/.config/nats/context/<name>.json): url, creds, nkey, TLS; flags win",
      ).env("NATS_CONTEXT"),
    )
    .option("-p, --prefix <prefix>", "bucket and subject namespace", "rk")
    .option("--json", "print JSON instead of tables (times as ISO 8601)")
    .showSuggestionAfterError()
    .exitOverride();
  for (const [, flag, env, description] of CONNECTION_FLAGS) {
    program.addOption(new Option(flag, description).env(env));
  }
  program.addHelpText(
    "after",
    "\nExit codes: 0 done, 1 error (connection, cluster or node), 2 bad usage.\nDrain, undrain, move and console need the admin NATS user; the others read only.",
  );
  program
    .command("nodes")
    .description("live processes: role, region, load, age, last heartbeat, epoch")
    .action(() => nats((c) => nodesCommand(c)));
  program
    .command("rooms")
    .description("active rooms: owner, room epoch, members, leader, age")
    .option("-n, --node <id>", "only rooms owned by this node")
    .option("-t, --type <type>", "only rooms of this type")
    .action((opts: { node?: string; type?: string }) => nats((c) => roomsCommand(c, opts)));
  program
    .command("leases")
    .description("room leases: owner, owner epoch, room epoch")
    .option("-n, --node <id>", "only leases held by this node")
    .action((opts: { node?: string }) => nats((c) => leasesCommand(c, opts.node)));
  program
    .command("presence <room>")
    .description("members of a room, given as <type>/<id>")
    .action((room: string) => nats((c) => presenceCommand(c, room)));
  program
    .command("watch [buckets...]")
    .description(
      `live tail of buckets (${BUCKETS.join(", ")}; default all), values decoded from MessagePack`,
    )
    .option("-k, --key <pattern>", "only keys matching this NATS pattern (chess.*, chess.g1.>)")
    .option("--heartbeats", "show every heartbeat of the nodes bucket (default: joins and leaves)")
    .action((buckets: string[], opts: { key?: string; heartbeats?: boolean }) => {
      let aliases;
      try {
        aliases = parseBuckets(buckets);
      } catch (err) {
        usage((err as Error).message);
      }
      if (opts.key !== undefined && !/^[^\s]+$/.test(opts.key))
        usage("--key must be a NATS key pattern");
      nats((c) => watchCommand(c, aliases, opts));
    });
  program
    .command("drain <node>")
    .description(
      "the node stops taking placements and hands every room to the other nodes, without exiting; shows progress and waits",
    )
    .option("--no-wait", "return once the drain has started")
    .option("--timeout <s>", "give up waiting after this many seconds", positive, 120)
    .action((node: string, opts: { wait: boolean; timeout: number }) =>
      nats((c) => drainCommand(c, node, { wait: opts.wait, timeoutMs: opts.timeout * 1000 })),
    );
  program
    .command("undrain <node>")
    .description("a drained node takes placements again")
    .action((node: string) => nats((c) => undrainCommand(c, node)));
  program
    .command("move <room>")
    .description("move a room (<type>/<id>) off its node, to --to or the least loaded other node")
    .option("--to <node>", "the node to move it to")
    .action((room: string, opts: { to?: string }) => {
      if (!/^[^/]+\/[^/]+$/.test(room))
        usage(`room must be <type>/<id>, got ${JSON.stringify(room)}`);
      nats((c) => moveCommand(c, room, opts.to));
    });
  program
    .command("console")
    .description(
      "live cluster console (web page): processes, rooms, members, events; drain and move buttons; a room playground at /playground",
    )
    .option("--port <port>", "admin port to listen on (never a gateway's public port)", port, 9300)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .addOption(
      new Option("--token <token>", "operator token the page asks for (at least 16 characters)")
        .env("ROOKERY_CONSOLE_TOKEN")
        .makeOptionMandatory(),
    )
    .option(
      "--ttl <ms>",
      "heartbeat TTL of the cluster: a process is down once its beat is older",
      positive,
      3000,
    )
    .action((opts: { port: number; host: string; token: string; ttl: number }) => {
      if (opts.token.length < 16) usage("--token must have at least 16 characters");
      select({
        kind: "console",
        options: { port: opts.port, host: opts.host, token: opts.token, ttlMs: opts.ttl },
      });
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
    .action((opts: LoadOptions) => select({ kind: "load", options: opts }));
  return program;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError("expected a port");
  return n;
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
  error: (line: string) => void,
): Promise<number> {
  try {
    write(formatLoadReport(await runLoad(options)));
    return ExitCode.Ok;
  } catch (err) {
    error(`rookery load: ${(err as Error).message}`);
    return ExitCode.Error;
  }
}

async function run(
  selected: Exclude<Selected, { kind: "load" }>,
  options: GlobalOptions,
  write: (line: string) => void,
  error: (line: string) => void,
): Promise<number> {
  let nc: NatsConnection;
  try {
    const context = options.context ? loadContext(options.context) : undefined;
    const servers = (options.server || context?.url || "127.0.0.1:4222").split(",");
    nc = await connectNats(connectionAuth(options, context), {
      servers,
      timeout: 3000,
      ...(context?.user ? { user: context.user, pass: context.password } : {}),
      ...(context?.token ? { token: context.token } : {}),
    });
  } catch (err) {
    error(`rookery: ${(err as Error).message}`);
    return ExitCode.Error;
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    const reader = new BucketReader(nc, options.prefix);
    const control = new ControlClient(nc, options.prefix);
    if (selected.kind === "console") {
      const console = await startConsole(
        { reader, control, log: write, play: { nc, prefix: options.prefix } },
        selected.options,
      );
      // A signal that came while the console was starting has already fired.
      if (!abort.signal.aborted)
        await new Promise<void>((resolve) =>
          abort.signal.addEventListener("abort", () => resolve(), { once: true }),
        );
      await console.close();
    } else {
      await selected.action({
        reader,
        control,
        out: { json: options.json === true, write },
        signal: abort.signal,
      });
    }
    return ExitCode.Ok;
  } catch (err) {
    error(`rookery: ${(err as Error).message}`);
    return err instanceof UsageError ? ExitCode.Usage : ExitCode.Error;
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    await nc.close();
  }
}

/**
 * Credentials and TLS from the flags (or their variables), else from the
 * context; checked like a service's.
 */
function connectionAuth(options: GlobalOptions, context: NatsContext | undefined): NatsAuth {
  const env: NodeJS.ProcessEnv = {};
  const fromFlags = CONNECTION_FLAGS.some(([field]) => options[field]);
  for (const [field, , name, , contextField] of CONNECTION_FLAGS) {
    env[name] = fromFlags ? options[field] : context?.[contextField];
  }
  return natsAuthFromEnv(env, undefined, (message) => {
    for (const [, flag, name] of CONNECTION_FLAGS) {
      message = message.replaceAll(name, flag.split(" ")[0]!);
    }
    if (context && !fromFlags) message = `context ${context.name}: ${message}`;
    return new Error(message);
  });
}
