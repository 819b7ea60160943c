/**
 * Bodies over 64 KiB → 413 (docs/BEHAVIOUR.md), refused from Content-Length before
 * anything is read, or while streaming when the length is not declared.
 */
import { bodyLimit } from "hono/body-limit";
import { problem } from "../lib/problem";

export const MAX_BODY_BYTES = 64 * 1024;

export const limitBody = () =>
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw problem(413, `The request body is larger than ${MAX_BODY_BYTES / 1024} KiB.`);
    },
  });
