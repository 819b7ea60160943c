/**
 * Allowed hosts (docs/BEHAVIOUR.md): a request whose Host is not in ALLOWED_HOSTS is
 * refused with 400 before anything else reads it. `*` allows any host;
 * `.example.com` allows example.com and its subdomains.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { parseHttpConfig } from "../lib/config";
import { logError } from "../lib/log";
import { problem } from "../lib/problem";

/** The host name without port, lower-cased; IPv6 literals keep their brackets. */
export function hostName(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  return host.replace(/:\d*$/, "").replace(/\.$/, "");
}

export function isHostAllowed(host: string, patterns: readonly string[]): boolean {
  return patterns.some((raw) => {
    const pattern = raw.toLowerCase();
    if (pattern === "*") return true;
    if (pattern.startsWith(".")) return host === pattern.slice(1) || host.endsWith(pattern);
    return host === pattern;
  });
}

export const allowedHosts = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const parsed = parseHttpConfig(c.env);
    if (!parsed.ok) {
      logError("config.http_invalid", { reason: parsed.reason, requestId: c.var.requestId });
      throw problem(500, "The server is misconfigured.");
    }
    const { allowedHosts: patterns } = parsed.value;
    if (patterns.length === 0) {
      logError("config.allowed_hosts_unset", { reason: "ALLOWED_HOSTS is not set", requestId: c.var.requestId });
      throw problem(500, "The server is misconfigured.");
    }
    const host = hostName(c.req.header("Host") ?? new URL(c.req.url).host);
    if (!isHostAllowed(host, patterns)) throw problem(400, "The Host header names a host this service does not serve.");
    await next();
  });
