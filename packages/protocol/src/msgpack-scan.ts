/**
 * A structural pre-check of untrusted MessagePack, run before msgpackr sees
 * the bytes. msgpackr's decoder recurses per nesting level and always honours
 * its (global) extension table — records, structured clones, Error, RegExp,
 * Set, typed arrays, bundled strings — none of which may come from a client.
 * This walk is iterative, allocates nothing proportional to the input, and
 * accepts only the plain MessagePack data model: nil, booleans, integers,
 * floats, str, bin, arrays, and maps whose keys are strings other than
 * `__proto__`. It also bounds nesting depth and requires exactly one value.
 */

const SCALAR = 0;
const STR = 1;
const BIN = 2;
const ARRAY = 3;
const MAP = 4;
type Kind = typeof SCALAR | typeof STR | typeof BIN | typeof ARRAY | typeof MAP;

/** A value header: its kind, its payload size (or item count for containers) and its own length. */
interface Head {
  kind: Kind;
  n: number;
  len: number;
}

// The one header being read: a scan reads one at a time and never nests
// (every client frame is scanned, and an object per value added up).
const scratch: Head = { kind: SCALAR, n: 0, len: 0 };

function head(kind: Kind, n: number, len: number): Head {
  scratch.kind = kind;
  scratch.n = n;
  scratch.len = len;
  return scratch;
}

const PROTO = new TextEncoder().encode("__proto__");

/** Returns undefined when `bytes` is one acceptable value, else what is wrong with it. */
export function scanMessagePack(bytes: Uint8Array, maxDepth: number): string | undefined {
  // Items still expected by each open container; a map counts keys and values.
  const open: number[] = [];
  const isMap: boolean[] = [];
  let pos = 0;
  do {
    const top = open.length - 1;
    const wantKey = top >= 0 && isMap[top] === true && open[top]! % 2 === 0;
    const h = readHead(bytes, pos);
    if (typeof h === "string") return `${h} at byte ${pos}`;
    const { kind, n, len } = h;
    if (wantKey && kind !== STR) return `map key at byte ${pos} is not a string`;
    const start = pos + len;
    if (top >= 0) open[top]!--;
    if (kind === ARRAY || kind === MAP) {
      const items = kind === MAP ? n * 2 : n;
      // Every item takes at least one byte: reject impossible counts up front.
      if (items > bytes.length - start) return `container at byte ${pos} overruns the message`;
      if (open.length >= maxDepth) return `nesting deeper than ${maxDepth} at byte ${pos}`;
      open.push(items);
      isMap.push(kind === MAP);
    } else {
      if (n > bytes.length - start) return `value at byte ${pos} overruns the message`;
      if (wantKey && isProtoKey(bytes, start, n)) return `map key "__proto__" at byte ${pos}`;
    }
    pos = kind === ARRAY || kind === MAP ? start : start + n;
    closeFinished(open, isMap);
  } while (open.length > 0);
  return pos === bytes.length ? undefined : `trailing bytes after byte ${pos}`;
}

function closeFinished(open: number[], isMap: boolean[]): void {
  while (open.length > 0 && open[open.length - 1] === 0) {
    open.pop();
    isMap.pop();
  }
}

function readHead(bytes: Uint8Array, pos: number): Head | string {
  const byte = bytes[pos];
  if (byte === undefined) return "message ends early";
  if (byte <= 0x7f || byte >= 0xe0) return head(SCALAR, 0, 1);
  if (byte <= 0x8f) return head(MAP, byte & 0x0f, 1);
  if (byte <= 0x9f) return head(ARRAY, byte & 0x0f, 1);
  if (byte <= 0xbf) return head(STR, byte & 0x1f, 1);
  switch (byte) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      return head(SCALAR, 0, 1);
    case 0xcc:
    case 0xd0:
      return head(SCALAR, 1, 1);
    case 0xcd:
    case 0xd1:
      return head(SCALAR, 2, 1);
    case 0xca:
    case 0xce:
    case 0xd2:
      return head(SCALAR, 4, 1);
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return head(SCALAR, 8, 1);
    default:
      return readSizedHead(bytes, pos, byte);
  }
}

// Headers whose size or count follows the type byte: [kind, width of the length].
const SIZED: Readonly<Record<number, readonly [Kind, number]>> = {
  0xc4: [BIN, 1],
  0xc5: [BIN, 2],
  0xc6: [BIN, 4],
  0xd9: [STR, 1],
  0xda: [STR, 2],
  0xdb: [STR, 4],
  0xdc: [ARRAY, 2],
  0xdd: [ARRAY, 4],
  0xde: [MAP, 2],
  0xdf: [MAP, 4],
};

function readSizedHead(bytes: Uint8Array, pos: number, byte: number): Head | string {
  const sized = SIZED[byte];
  if (sized === undefined)
    return byte === 0xc1 ? "reserved byte 0xc1" : "extension type not allowed";
  const [kind, width] = sized;
  if (pos + 1 + width > bytes.length) return "message ends early";
  let n = 0;
  for (let i = 1; i <= width; i++) n = n * 256 + bytes[pos + i]!;
  return head(kind, n, 1 + width);
}

function isProtoKey(bytes: Uint8Array, start: number, length: number): boolean {
  if (length !== PROTO.length) return false;
  for (let i = 0; i < length; i++) if (bytes[start + i] !== PROTO[i]) return false;
  return true;
}
