/**
 * Per-client-IP limits on the auth routes, through Workers' rate-limiting
 * bindings (wrangler.toml `[[ratelimits]]`, where the limits are set): 429
 * with Retry-After beyond them. Runs before the body is read, so malformed
 * requests count too, and costs no database round trip.
 *
 * Keyed on CF-Connecting-IP, which Cloudflare sets on every request (a
 * client cannot forge it); an IPv6 client counts per /64, the block one
 * subscriber usually holds. Without the header (tests calling the app
 * directly) or without the binding, nothing is limited.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import type { RateLimiterName } from "../lib/config";
import { problem } from "../lib/problem";

/** The longest window a rate-limiting binding has (its `period`: 10 or 60 seconds). */
const RETRY_AFTER_SECONDS = 60;

/** The address a client is counted under: IPv4 (also IPv4-mapped) as is, IPv6 by its /64. */
export function clientKey(ip: string): string {
  if (!ip.includes(":") || ip.includes(".")) return ip;
  const [head, tail = ""] = ip.split("::");
  const groups = head.split(":").filter(Boolean);
  // Fill in what `::` stood for, so that equal prefixes spell the same.
  const full = [...groups, ...Array(Math.max(0, 8 - groups.length - tail.split(":").filter(Boolean).length)).fill("0")];
  return `${full
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

export const limitPerClientIp = (limiter: RateLimiterName) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const binding = c.env[limiter];
    const ip = c.req.header("CF-Connecting-IP");
    if (binding && ip) {
      const { success } = await binding.limit({ key: clientKey(ip) });
      if (!success) {
        throw problem(429, "Too many requests from this address; try again later.", {
          headers: { "Retry-After": String(RETRY_AFTER_SECONDS) },
        });
      }
    }
    await next();
  });
