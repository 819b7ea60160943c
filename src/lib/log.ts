/**
 * Structured log lines (one JSON object each, as Workers Logs index them).
 * Callers pass only ids, codes and fixed messages: never names, emails,
 * dates of birth, medical text, tokens or passwords.
 */
type Fields = Record<string, string | number | boolean | undefined>;

export function logError(event: string, fields: Fields = {}): void {
  console.error(JSON.stringify({ level: "error", event, ...fields }));
}

export function logInfo(event: string, fields: Fields = {}): void {
  console.log(JSON.stringify({ level: "info", event, ...fields }));
}

export function logWarn(event: string, fields: Fields = {}): void {
  console.warn(JSON.stringify({ level: "warn", event, ...fields }));
}
