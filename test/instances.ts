/**
 * For node tests that drive the deployable bundle in workerd instances
 * (scripts/lib/bundle.ts) on the suite's local endpoint: a JSON request to
 * an instance, and the endpoint's fault mode for one connection string.
 */
/** Sends `body` as JSON (when given) with the bearer `token`; answers the status and the parsed body. */
export async function send(origin: string, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Sets the fault mode of the endpoint (its SQL URL) for the Worker's DATABASE_URL `databaseUrl` (the driver sends it as postgresql://). */
export const setFault = (endpoint: string, databaseUrl: string, mode: string) =>
  fetch(
    `${endpoint.replace(/\/sql$/, "/faults")}?connection=${encodeURIComponent(databaseUrl.replace(/^postgres:/, "postgresql:"))}&mode=${mode}`,
    { method: "POST" },
  );
