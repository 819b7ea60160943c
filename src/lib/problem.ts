/**
 * RFC 9457 problem details: the one shape every 4xx/5xx of this API takes.
 * Handlers throw `problem(...)`; app.onError turns it into the response, so
 * the global middleware still adds its headers on the way out.
 */
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export type FieldErrors = Record<string, string[]>;

export interface ProblemOptions {
  errors?: FieldErrors;
  headers?: Record<string, string>;
}

export function problemResponse(status: ContentfulStatusCode, detail: string, options: ProblemOptions = {}): Response {
  const body = {
    type: "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    detail,
    ...(options.errors ? { errors: options.errors } : {}),
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/problem+json", ...options.headers },
  });
}

/** An exception that app.onError renders as the given problem. */
export function problem(status: ContentfulStatusCode, detail: string, options: ProblemOptions = {}): HTTPException {
  return new HTTPException(status, { message: detail, res: problemResponse(status, detail, options) });
}

/** 503 for a database that is missing, down or too slow: clients may retry. */
export const RETRY_AFTER_SECONDS = "5";
export const serviceUnavailable = (detail: string) => problem(503, detail, { headers: { "Retry-After": RETRY_AFTER_SECONDS } });
