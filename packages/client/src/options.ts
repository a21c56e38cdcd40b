/** A token, or a function that fetches a fresh one (called on every connect). */
export type TokenSource = string | (() => string | Promise<string>);

/** A WebSocket constructor: the browser's, or `ws` in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The part of the WebSocket API the client uses (browsers and `ws` both have it). */
export interface WebSocketLike {
  binaryType: string;
  readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface ClientOptions {
  /** Token for `hello`: a string, or a function returning a fresh one. Required. */
  token?: TokenSource;
  /** Gateway(s) to ask `GET /discover` (http(s) base URLs). Used when `url` is not set. @default [] */
  discoveryUrl?: string | string[];
  /** A WebSocket URL to connect to directly (no discovery). @default undefined */
  url?: string;
  /** Region passed to discovery. @default undefined (any) */
  region?: string;
  /**
   * The room (`type/id`) this client is about to join: discovery then names
   * the process that owns it (co-located shape), where its inputs and events
   * never cross NATS. Once joined, reconnects ask for the first joined room.
   * @default undefined
   */
  room?: string;
  /** Session id, kept across reconnects (member id is `<user>:<session>`). @default 128 random bits */
  session?: string;
  /** First reconnect delay bound; each attempt doubles it (full jitter). @default 250 */
  backoffBaseMs?: number;
  /** Largest reconnect delay bound. @default 5000 */
  backoffCapMs?: number;
  /** Inputs waiting while disconnected; beyond it `send` rejects with QUEUE_FULL. @default 1000 */
  maxQueuedInputs?: number;
  /** Give up one connection attempt (socket + handshake) after this long. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * An input with no outcome this long after it was first sent rejects with
   * `ROOM_UNAVAILABLE` (`InputTimeoutError`): it may or may not have taken effect.
   * Until then it is re-sent with the same seq. @default 60000
   */
  inputTimeoutMs?: number;
  /** A request (input, join, leave) unanswered this long makes the client ping the gateway. @default 1500 */
  ackDeadlineMs?: number;
  /** No frame at all within this long after that ping: the gateway is taken for dead; reconnect. @default 1000 */
  pingDeadlineMs?: number;
  /** WebSocket implementation. @default globalThis.WebSocket, else the `ws` package */
  WebSocket?: WebSocketConstructor;
}

export interface ResolvedClientOptions extends Required<
  Omit<ClientOptions, "url" | "region" | "room" | "WebSocket" | "discoveryUrl">
> {
  discoveryUrl: string[];
  url: string | undefined;
  region: string | undefined;
  room: string | undefined;
  WebSocket: WebSocketConstructor | undefined;
}

export class ClientOptionsError extends Error {
  readonly code = "CLIENT_OPTIONS_INVALID";
  override readonly name = "ClientOptionsError";
}

/** A fresh object with every default (`token` has none). */
export function defaultClientOptions(): Omit<ResolvedClientOptions, "token"> {
  return {
    discoveryUrl: [],
    url: undefined,
    region: undefined,
    room: undefined,
    session: randomSession(),
    backoffBaseMs: 250,
    backoffCapMs: 5000,
    maxQueuedInputs: 1000,
    connectTimeoutMs: 10_000,
    inputTimeoutMs: 60_000,
    ackDeadlineMs: 1500,
    pingDeadlineMs: 1000,
    WebSocket: undefined,
  };
}

export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  if (options.token === undefined) throw new ClientOptionsError("a token is required");
  const discoveryUrl =
    typeof options.discoveryUrl === "string"
      ? [options.discoveryUrl]
      : (options.discoveryUrl ?? []);
  if (!options.url && discoveryUrl.length === 0) {
    throw new ClientOptionsError("give url or discoveryUrl");
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...defaultClientOptions(), ...defined, discoveryUrl, token: options.token };
}

function randomSession(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
