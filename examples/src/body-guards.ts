import type { Value } from "@rookery/protocol";

/** A MessagePack map (not an array, binary or nil): the shape every message body starts from. */
export function isMap(body: Value): body is { [key: string]: Value } {
  return (
    typeof body === "object" &&
    body !== null &&
    !Array.isArray(body) &&
    !(body instanceof Uint8Array)
  );
}
