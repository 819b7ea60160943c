/**
 * Delta sync for offline clients (docs/SYNC.md): every change to what the
 * caller may see, after a cursor, oldest first, deletions as tombstones.
 * One statement per page, audited as `sync`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { syncConfig } from "../../lib/config";
import { encodeOpaque } from "../../lib/cursor";
import { problem } from "../../lib/problem";
import { actorOf } from "../../lib/resource";
import { describeRoute } from "../../lib/route-doc";
import { queryParams } from "../../lib/validation";
import { requireUser } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { type FeedPage, type FeedPosition, readFeedPage } from "./queries";
import { NIL_UUID, type SyncCursor, syncPage, syncQuery } from "./schemas";

const START: FeedPosition = { x: "0", r: -1, i: NIL_UUID };
const DAY_SECONDS = 86_400;

/**
 * Where the next page starts. A page that ends the feed moves the cursor up
 * to the horizon: nothing below it is left to hand out, and the next sync
 * then starts from there.
 */
function nextCursor(from: FeedPosition, deletionsFrom: string | undefined, page: FeedPage, now: number): SyncCursor {
  let at = page.last ?? from;
  if (!page.hasMore && BigInt(page.horizon) > BigInt(at.x)) at = { x: page.horizon, r: -1, i: NIL_UUID };
  const floor = deletionsFrom !== undefined && BigInt(deletionsFrom) > BigInt(at.x) ? deletionsFrom : undefined;
  return { v: 1, x: at.x, r: at.r, i: at.i, ...(floor === undefined ? {} : { f: floor }), t: now };
}

export const syncRoutes = new Hono<AppEnv>().use(requireUser(), database()).get(
  "/",
  describeRoute({
    operationId: "sync",
    summary: "Changes since a cursor, for offline clients",
    description:
      "Without `since`: everything the caller may see (their patients and mappings, every doctor), in pages. With `since`: every change after it, oldest first, each resource at most once per page in its newest state; deletions have `op: delete` and `data: null`. Sync until `has_more` is false, then keep the last `cursor` for next time. A cursor older than SYNC_TOMBSTONE_DAYS → 410: start again without `since`.",
    success: { status: 200, description: "A page of changes.", schema: syncPage },
    errors: [410],
  }),
  queryParams(syncQuery),
  async (c) => {
    const { since, limit } = c.req.valid("query");
    const now = Math.floor(Date.now() / 1000);
    if (since !== undefined && now - since.t > syncConfig(c.env, c.var.requestId).SYNC_TOMBSTONE_DAYS * DAY_SECONDS) {
      throw problem(410, "This sync cursor is older than deletions are kept: sync again from the start, without since.");
    }
    const from = since ?? START;
    const page = await readFeedPage(c.var.db, actorOf(c), {
      after: from,
      deletionsFrom: since === undefined ? "none" : (since.f ?? "0"),
      limit,
    });
    // A first page leaves out every deletion below its horizon; later pages too (see SyncCursor.f).
    const deletionsFrom = since === undefined ? page.horizon : since.f;
    return c.json({ changes: page.changes, cursor: encodeOpaque(nextCursor(from, deletionsFrom, page, now)), has_more: page.hasMore });
  },
);
