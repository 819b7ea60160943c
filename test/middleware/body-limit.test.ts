/**
 * A refused body is read to its end (up to a bound) before the 413 goes
 * out, so the client has finished sending when the answer arrives: a 413
 * sent mid-upload was lost behind `wrangler dev` (503 or a reset; see
 * test/routes/body-limit.node.test.ts for the end-to-end check).
 */
import { describe, expect, it } from "vitest";
import { callWithEnv, expectProblem } from "../helpers";

/** A request body of `size` bytes in 8 KiB chunks that counts how much of it was read. */
function countedBody(size: number) {
  const counter = { pulled: 0, cancelled: false };
  const chunk = new Uint8Array(8192).fill(32);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled >= size) return controller.close();
      const part = chunk.subarray(0, Math.min(chunk.length, size - counter.pulled));
      counter.pulled += part.length;
      controller.enqueue(part);
    },
    cancel() {
      counter.cancelled = true;
    },
  });
  return { stream, counter };
}

const post = (body: ReadableStream, headers: Record<string, string>) =>
  callWithEnv({}, "/api/auth/login/", {
    method: "POST",
    body,
    headers: { "Content-Type": "application/json", ...headers },
    duplex: "half",
  } as RequestInit);

describe("413", () => {
  it("reads a refused body with a declared length to its end before answering", async () => {
    const { stream, counter } = countedBody(70 * 1024);
    await expectProblem(await post(stream, { "Content-Length": String(70 * 1024) }), 413);
    expect(counter.pulled).toBe(70 * 1024);
  });

  it("reads a refused body of unknown length to its end before answering", async () => {
    const { stream, counter } = countedBody(70 * 1024);
    await expectProblem(await post(stream, {}), 413);
    expect(counter.pulled).toBe(70 * 1024);
  });

  it("stops reading a huge body after a bound, and cancels the rest", async () => {
    const { stream, counter } = countedBody(64 * 1024 * 1024);
    await expectProblem(await post(stream, {}), 413);
    expect(counter.pulled).toBeLessThan(4 * 1024 * 1024);
    expect(counter.cancelled).toBe(true);
  });
});
