/**
 * Bodies over 64 KiB → 413 (docs/BEHAVIOUR.md), refused from Content-Length before
 * anything is parsed, or while streaming when the length is not declared.
 *
 * A refused body is still read to its end, up to DRAIN_LIMIT_BYTES, before
 * the 413 goes out: answering while the client was still sending lost the
 * answer behind `wrangler dev` (503 "worker restarted mid-request", or a
 * connection reset). A larger body is cancelled instead, so a client cannot
 * hold the Worker reading junk.
 */
import { createMiddleware } from "hono/factory";
import { problem } from "../lib/problem";

export const MAX_BODY_BYTES = 64 * 1024;
const DRAIN_LIMIT_BYTES = 1024 * 1024;

const tooLarge = () => problem(413, `The request body is larger than ${MAX_BODY_BYTES / 1024} KiB.`);

/** Reads and drops what is left of a body, `alreadyRead` bytes in; past the drain limit, cancels it. */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number): Promise<void> {
  for (let read = alreadyRead; read <= DRAIN_LIMIT_BYTES; ) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
  }
  await reader.cancel();
}

export const limitBody = () =>
  createMiddleware(async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const declared = c.req.raw.headers.has("transfer-encoding") ? undefined : c.req.header("Content-Length");
    if (declared !== undefined) {
      const length = Number.parseInt(declared, 10);
      if (!(length > MAX_BODY_BYTES)) return next();
      const reader = body.getReader();
      if (length > DRAIN_LIMIT_BYTES) await reader.cancel();
      else await discard(reader, 0);
      throw tooLarge();
    }
    // Unknown length: buffer up to the limit (the JSON parser reads it all anyway).
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await discard(reader, size);
        throw tooLarge();
      }
      chunks.push(value);
    }
    const buffered = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      buffered.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: buffered });
    await next();
  });
