import { roomsOf } from "./node-service";

/**
 * The example room types plus those exported by each module named (a path,
 * relative to the working directory, or a package name).
 */
export async function loadRooms(modules: string[]): Promise<ReturnType<typeof roomsOf>> {
  const rooms = roomsOf(await import("@rookery/examples"));
  for (const spec of modules) {
    const url =
      spec.startsWith(".") || spec.startsWith("/")
        ? new URL(spec, `file://${process.cwd()}/`).href
        : spec;
    rooms.push(...roomsOf((await import(url)) as Record<string, unknown>));
  }
  return rooms;
}
