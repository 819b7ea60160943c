/** What the sync route accepts and answers (docs/SYNC.md). */
import * as z from "zod";
import { SYNC_TYPES, type SyncType } from "../../db/schema";
import { decodeOpaque } from "../../lib/cursor";
import { integer } from "../../lib/list";
import { doctorResponse } from "../doctors/schemas";
import { mappingResponse } from "../mappings/schemas";
import { patientResponse } from "../patients/schemas";

/** Each synced type's data, exactly as its own GET shows it. */
export const SYNC_RESPONSES = { doctor: doctorResponse, patient: patientResponse, mapping: mappingResponse } satisfies Record<
  SyncType,
  unknown
>;

/** A transaction id as Postgres prints an xid8: an unsigned 64-bit integer (a bigger one would fail its cast: a 500). */
const XID8_MAX = 2n ** 64n - 1n;
const xidText = z.string().refine((x) => /^(0|[1-9]\d{0,19})$/.test(x) && BigInt(x) <= XID8_MAX);
export const NIL_UUID = "00000000-0000-0000-0000-000000000000";

/**
 * A position in the feed: after the change (x, r, i) in (transaction id,
 * type rank in SYNC_TYPES, id) order; r = -1 is before every change of
 * transaction x. `f`: changes of transactions below it happened before the
 * client's first snapshot, so their deletions are of rows it never had.
 * `t`: when the cursor was issued (epoch seconds), for the 410.
 */
export const syncCursorSchema = z.strictObject({
  v: z.literal(1),
  x: xidText,
  r: z
    .number()
    .int()
    .min(-1)
    .max(SYNC_TYPES.length - 1),
  i: z.uuid(),
  f: xidText.optional(),
  t: z.number().int().min(0),
});
export type SyncCursor = z.infer<typeof syncCursorSchema>;

export const syncQuery = z.object({
  since: z
    .string()
    .transform((text, ctx) => {
      // Empty asks for the start, like no `since` at all.
      if (text === "") return undefined;
      const cursor = syncCursorSchema.safeParse(decodeOpaque(text));
      if (!cursor.success) ctx.addIssue({ code: "custom", message: "since is not a cursor this service issued." });
      return cursor.data;
    })
    .optional()
    .meta({ description: "The `cursor` of the previous page; without it, everything the caller may see, from the start." }),
  limit: integer("limit", 1, 500, 100),
});

const change = <T extends SyncType>(type: T) =>
  z.object({
    type: z.literal(type),
    id: z.uuid(),
    op: z.enum(["upsert", "delete"]),
    data: SYNC_RESPONSES[type].schema.nullable().meta({ description: `The ${type} as its own GET shows it; null for a deletion.` }),
  });
export const syncPage = z
  .object({
    changes: z.array(z.discriminatedUnion("type", [change("doctor"), change("patient"), change("mapping")])),
    cursor: z.string().meta({ description: "Opaque: pass it as `since` for the next page or the next sync." }),
    has_more: z.boolean(),
  })
  .meta({ id: "SyncPage" });
export type SyncPage = z.infer<typeof syncPage>;
