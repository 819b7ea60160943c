/**
 * The console's session and its API client. The access token lives only in
 * this module's memory; the refresh token in sessionStorage (this tab only),
 * so a reload can resume the session and closing the tab ends it. Every call
 * goes through `hc<AppType>`: a route whose shape changes breaks the
 * console's type check, not the administrators' morning.
 */
import { hc } from "hono/client";
import type { AppType } from "../src/index";

const REFRESH_KEY = "admin-console.refresh";
let access: string | undefined;

export const api = hc<AppType>(location.origin, {
  headers: (): Record<string, string> => (access ? { Authorization: `Bearer ${access}` } : {}),
}).api;

/** An API error: its problem `detail`, and per-field messages for validation errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: Record<string, string[]> = {},
  ) {
    super(detail);
  }
}

/** The session is over (a 401 a refresh could not cure): the console returns to sign-in. */
export class SessionEnded extends Error {}

interface Reply {
  status: number;
  json(): Promise<unknown>;
}

/** 412: the record changed since it was read (If-Match no longer matches). Typed replies list only successes, hence the plain status. */
export const changedMeanwhile = (reply: { status: number }) => reply.status === 412;

/** The problem+json body of a failed reply as an ApiError. */
export async function problemOf(reply: Reply): Promise<ApiError> {
  const body = (await reply.json().catch(() => ({}))) as { detail?: unknown; errors?: unknown };
  const detail = typeof body.detail === "string" ? body.detail : `The service answered ${reply.status}.`;
  const errors = body.errors && typeof body.errors === "object" ? (body.errors as Record<string, string[]>) : {};
  return new ApiError(reply.status, detail, errors);
}

export interface Administrator {
  id: string;
  name: string;
  email: string;
}
let administrator: Administrator | undefined;
export const signedIn = () => administrator;

function keep(tokens: { access: string; refresh: string }) {
  access = tokens.access;
  sessionStorage.setItem(REFRESH_KEY, tokens.refresh);
}

function forget() {
  access = undefined;
  administrator = undefined;
  sessionStorage.removeItem(REFRESH_KEY);
}

// One refresh at a time: refresh tokens are single-use, and a second use would end the session as stolen.
let renewing: Promise<boolean> | undefined;
function renew(): Promise<boolean> {
  renewing ??= (async () => {
    const refresh = sessionStorage.getItem(REFRESH_KEY);
    if (!refresh) return false;
    const reply = await api.auth.refresh.$post({ json: { refresh } });
    if (reply.status !== 200) return false;
    keep(await reply.json());
    return true;
  })().finally(() => {
    renewing = undefined;
  });
  return renewing;
}

/**
 * Runs an API call with the session's token. A 401 gets one refresh and
 * one retry (access tokens last minutes); if that fails too, the session
 * is over.
 */
export async function authorized<R extends Reply>(call: () => Promise<R>): Promise<R> {
  let reply = await call();
  if (reply.status === 401 && (await renew())) reply = await call();
  if (reply.status === 401) {
    forget();
    throw new SessionEnded("Your session has ended. Sign in again.");
  }
  return reply;
}

/** Whoever the current access token belongs to, if an administrator; otherwise the session is dropped. */
async function checkAdministrator(): Promise<void> {
  const reply = await authorized(() => api.auth.me.$get());
  if (reply.status !== 200) throw await problemOf(reply);
  const me = await reply.json();
  if (!me.is_admin) {
    const refresh = sessionStorage.getItem(REFRESH_KEY);
    forget();
    // End the session on the server too: nothing of it is kept anywhere.
    if (refresh) await api.auth.logout.$post({ json: { refresh } }).catch(() => undefined);
    throw new ApiError(403, "This account is not an administrator. The console is for administrators only.");
  }
  administrator = { id: me.id, name: me.name, email: me.email };
}

export async function signIn(email: string, password: string): Promise<void> {
  forget();
  const reply = await api.auth.login.$post({ json: { email, password } });
  if (reply.status !== 200) throw await problemOf(reply);
  keep(await reply.json());
  await checkAdministrator();
}

/** After a reload: continues the tab's session from its refresh token, if it has one. */
export async function resume(): Promise<boolean> {
  if (!sessionStorage.getItem(REFRESH_KEY) || !(await renew())) {
    forget();
    return false;
  }
  await checkAdministrator();
  return true;
}

export async function signOut(): Promise<void> {
  const refresh = sessionStorage.getItem(REFRESH_KEY);
  forget();
  if (refresh) await api.auth.logout.$post({ json: { refresh } }).catch(() => undefined);
}
