/**
 * The room type the nemesis suite drives (loaded by the nodes through
 * ROOKERY_ROOM_MODULES). Its state is the full list of applied tags, in
 * order, so duplicates, losses and divergent views are all visible to the
 * checker.
 */
import { defineRoom } from "@rookery/actors";
import type { Value } from "@rookery/protocol";

export const CHAOS_ROOM_TYPE = "chaos-ledger";

export type ChaosLedgerState = {
  /** Every applied tag, in the order the room applied them. */
  items: string[];
};

export type AppendBody = {
  tag: string;
  /** True asks the room to refuse this input, so rejections (and their dedupe) are exercised. */
  reject: boolean;
};

const isAppend = (body: Value): body is AppendBody =>
  typeof body === "object" &&
  body !== null &&
  typeof (body as { tag?: unknown }).tag === "string" &&
  typeof (body as { reject?: unknown }).reject === "boolean";

export const chaosLedgerRoom = defineRoom<ChaosLedgerState, { append: AppendBody }>({
  type: CHAOS_ROOM_TYPE,
  durability: "durable",
  initialState: () => ({ items: [] }),
  onMessage: {
    append(ctx, body) {
      if (body.reject) ctx.reject(`refused ${body.tag}`);
      const i = ctx.state.items.length;
      ctx.state.items.push(body.tag);
      ctx.emit("appended", { tag: body.tag, i });
      return { i };
    },
  },
  validate: { append: isAppend },
});
