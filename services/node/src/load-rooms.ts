import { instrumentRoomModules } from "@rookery/actors/internal";
import { roomsOf } from "./node-service";

export interface LoadRoomsOptions {
  /**
   * Compile cooperative budget checks into the room modules as they load
   * (docs/node.md, "Mailbox and handlers"), so their handlers run without
   * the vm timeout's cost. Rooms whose code was not instrumented (a module
   * loaded before, one Node loads as CommonJS, a definition not made by
   * `defineRoom`) keep the vm timeout. @default true, unless
   * ROOKERY_INSTRUMENT_ROOMS=0
   */
  instrument?: boolean;
}

/**
 * The example room types plus those exported by each module named (a path,
 * relative to the working directory, or a package name). A room is an export
 * made by `defineRoom` (it carries `roomBrand`, see `roomsOf`); every other
 * export is ignored, and a module that fails to import rejects the load.
 */
export async function loadRooms(
  modules: string[],
  options: LoadRoomsOptions = {},
): Promise<ReturnType<typeof roomsOf>> {
  const instrument = options.instrument ?? process.env.ROOKERY_INSTRUMENT_ROOMS !== "0";
  // Every module imported dynamically from this one is a room module.
  if (instrument) instrumentRoomModules(import.meta.url);
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
