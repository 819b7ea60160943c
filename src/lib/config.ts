/**
 * Configuration from the Worker's bindings (`c.env`), validated by zod.
 * Each concern is checked where it is needed, so a missing DATABASE_URL
 * takes down only the data routes (503) and a bad JWT_SECRET only the auth
 * routes (500), each with a log line that names the variable, never its value.
 * Parsed values are cached per env object: one parse per isolate.
 */
import * as z from "zod";
import { logError } from "./log";
import { problem, serviceUnavailable } from "./problem";

/** Every variable the Worker reads (docs/BEHAVIOUR.md). Values arrive as strings (or numbers from wrangler.toml [vars]). */
const VARIABLES = [
  "DATABASE_URL",
  "NEON_LOCAL_ENDPOINT",
  "DB_TIMEOUT_MS",
  "STATEMENT_CHECK",
  "READ_AUDIT_COMMIT",
  "JWT_SECRET",
  "JWT_ACCESS_MINUTES",
  "JWT_REFRESH_DAYS",
  "REFRESH_REUSE_GRACE_SECONDS",
  "JWT_ISSUER",
  "JWT_AUDIENCE",
  "PASSWORD_ITERATIONS",
  "LOGIN_MAX_FAILURES",
  "LOGIN_WINDOW_MINUTES",
  "SYNC_TOMBSTONE_DAYS",
  "CLEANUP_BATCH_ROWS",
  "CLEANUP_MAX_BATCHES",
  "ALLOWED_HOSTS",
  "CORS_ORIGINS",
] as const;
/** A Workers rate-limiting binding (wrangler.toml `[[ratelimits]]`), as far as the service uses it. */
export interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}
/** Per-client-IP limits: register, login (and password change) do PBKDF2 work; refresh does not, and is allowed more. */
export type RateLimiterName = "AUTH_PASSWORD_LIMITER" | "AUTH_REFRESH_LIMITER";
export type Bindings = Partial<Record<(typeof VARIABLES)[number], string> & Record<RateLimiterName, RateLimiter>>;

/** Production Workers refuse PBKDF2 above this many iterations (local workerd does not). */
export const MAX_PBKDF2_ITERATIONS = 100_000;

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

const databaseSchema = z.object({
  DATABASE_URL: z.string({ error: "DATABASE_URL is not set" }).regex(/^postgres(ql)?:\/\//, "DATABASE_URL is not a postgres:// URL"),
  NEON_LOCAL_ENDPOINT: z.string().optional(),
  DB_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  // Tests only: every cached statement shape is checked against a fresh build (src/db/statement.ts).
  STATEMENT_CHECK: z
    .enum(["0", "1"])
    .default("0")
    .transform((v) => v === "1"),
  // Whether an audited read's commit waits for its audit row to be durable (README, "Read-audit durability"); writes always do.
  READ_AUDIT_COMMIT: z.enum(["durable", "async"], { error: "READ_AUDIT_COMMIT must be durable or async" }).default("durable"),
});

const loginWindowMinutes = z.coerce
  .number()
  .int()
  .min(1)
  .max(24 * 60)
  .default(15);

const authSchema = z.object({
  JWT_SECRET: z.string({ error: "JWT_SECRET is not set" }).min(32, "JWT_SECRET is shorter than 32 characters"),
  JWT_ACCESS_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
  JWT_REFRESH_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  // How long a just-rotated refresh token may be presented again for the same successor (a lost response); 0 turns it off (docs/SECURITY.md).
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  // Give each environment its own pair, so that one sharing a JWT_SECRET by mistake still cannot mint our tokens.
  JWT_ISSUER: z.string().min(1).max(200).default("edge-health-api"),
  JWT_AUDIENCE: z.string().min(1).max(200).default("edge-health-api"),
  PASSWORD_ITERATIONS: z.coerce
    .number()
    .int()
    .min(10_000)
    .max(MAX_PBKDF2_ITERATIONS, `PASSWORD_ITERATIONS is above ${MAX_PBKDF2_ITERATIONS}, which production Workers refuse`)
    .default(MAX_PBKDF2_ITERATIONS),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
  LOGIN_WINDOW_MINUTES: loginWindowMinutes,
});

/** How long the sync feed remembers a deletion, and so how old a sync cursor may be (docs/SYNC.md). */
const syncSchema = z.object({
  SYNC_TOMBSTONE_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
});

/** The scheduled clean-up (src/scheduled/cleanup.ts): rows per DELETE, and DELETEs per table per run. */
const cleanupSchema = syncSchema.extend({
  LOGIN_WINDOW_MINUTES: loginWindowMinutes,
  CLEANUP_BATCH_ROWS: z.coerce.number().int().min(1).max(10_000).default(1000),
  CLEANUP_MAX_BATCHES: z.coerce.number().int().min(1).max(1000).default(20),
});

const httpSchema = z.object({
  ALLOWED_HOSTS: list,
  CORS_ORIGINS: list,
  NEON_LOCAL_ENDPOINT: z.string().optional(),
});

export type DatabaseConfig = z.output<typeof databaseSchema>;

/**
 * Whether `url` is an http(s) URL on this machine. NEON_LOCAL_ENDPOINT is
 * honoured only then: set by mistake in production to anything else, it
 * would send DATABASE_URL, password included, to that host.
 */
export function isLoopbackUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { protocol, hostname, username, password } = new URL(url);
  return (
    /^https?:$/.test(protocol) &&
    !username &&
    !password &&
    (hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname))
  );
}
export type AuthConfig = z.output<typeof authSchema>;
export type CleanupConfig = z.output<typeof cleanupSchema>;
export type SyncConfig = z.output<typeof syncSchema>;
export interface HttpConfig {
  /** Host patterns; `*` allows any host. */
  allowedHosts: string[];
  corsOrigins: string[];
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function cached<S extends z.ZodType, T = z.output<S>>(schema: S, finish: (v: z.output<S>) => T = (v) => v as T) {
  const cache = new WeakMap<object, Parsed<T>>();
  return (env: Bindings): Parsed<T> => {
    let parsed = cache.get(env);
    if (!parsed) {
      const result = schema.safeParse(env);
      // Only zod's message (which names the variable) is kept: never the value.
      parsed = result.success
        ? { ok: true, value: finish(result.data) }
        : {
            ok: false,
            reason: result.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; "),
          };
      cache.set(env, parsed);
    }
    return parsed;
  };
}

export const parseDatabaseConfig = cached(databaseSchema);
export const parseAuthConfig = cached(authSchema);
export const parseCleanupConfig = cached(cleanupSchema);
export const parseSyncConfig = cached(syncSchema);
export const parseHttpConfig = cached(
  httpSchema,
  (v): HttpConfig => ({
    // Unset ALLOWED_HOSTS means "any host" only in local development (the local endpoint is set).
    allowedHosts: v.ALLOWED_HOSTS.length > 0 ? v.ALLOWED_HOSTS : v.NEON_LOCAL_ENDPOINT && isLoopbackUrl(v.NEON_LOCAL_ENDPOINT) ? ["*"] : [],
    corsOrigins: v.CORS_ORIGINS,
  }),
);

/**
 * The database settings, or a 503 problem (and a log line saying why) when
 * they are missing or invalid. A NEON_LOCAL_ENDPOINT off this machine is a
 * 500: a deployment mistake to fix, not an outage to wait out.
 */
export function databaseConfig(env: Bindings, requestId?: string): DatabaseConfig {
  const parsed = parseDatabaseConfig(env);
  if (!parsed.ok) {
    logError("config.database_invalid", { reason: parsed.reason, requestId });
    throw serviceUnavailable("The database is not configured.");
  }
  const endpoint = parsed.value.NEON_LOCAL_ENDPOINT;
  if (endpoint !== undefined && !isLoopbackUrl(endpoint)) {
    logError("config.database_invalid", {
      reason: "NEON_LOCAL_ENDPOINT is set but not an http(s) URL on a loopback address; it is for local development only",
      requestId,
    });
    throw problem(500, "The database connection is misconfigured on this server.");
  }
  return parsed.value;
}

/** The token and password settings, or a 500 problem (and a log line saying why). */
export function authConfig(env: Bindings, requestId?: string): AuthConfig {
  const parsed = parseAuthConfig(env);
  if (parsed.ok) return parsed.value;
  logError("config.auth_invalid", { reason: parsed.reason, requestId });
  throw problem(500, "Authentication is not configured on this server.");
}

/** The sync settings, or a 500 problem (and a log line saying why). */
export function syncConfig(env: Bindings, requestId?: string): SyncConfig {
  const parsed = parseSyncConfig(env);
  if (parsed.ok) return parsed.value;
  logError("config.sync_invalid", { reason: parsed.reason, requestId });
  throw problem(500, "Sync is not configured on this server.");
}
