/**
 * What `npm run profile` needs besides the benchmark's helpers: a minimal
 * Chrome DevTools Protocol client for workerd's inspector (V8's sampling
 * profiler), a source-map lookup so that a sample in the bundle is named by
 * the file it came from, and the self/total arithmetic DevTools does.
 */
import { readFileSync } from "node:fs";

// ---------- DevTools protocol ----------

/** The part of the WHATWG WebSocket we use (global in Node ≥ 22; Node 20 needs --experimental-websocket). */
interface MinimalWebSocket {
  send(data: string): void;
  close(): void;
  addEventListener(type: "open" | "error" | "close", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}
type WebSocketConstructor = new (url: string) => MinimalWebSocket;

export interface Inspector {
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  close(): void;
}

/**
 * Connects to the user Worker's isolate. Miniflare started without an
 * inspector proxy (none of its workers asks for one) gives workerd's own
 * inspector address; its /json lists one target per service, ours being
 * `core:user:<worker name>`.
 */
export async function connectInspector(inspectorUrl: URL): Promise<Inspector> {
  const WebSocketImpl = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocketImpl) throw new Error("No global WebSocket: run with NODE_OPTIONS=--experimental-websocket (as `npm run profile` does).");
  const targets = (await (await fetch(`http://${inspectorUrl.host}/json`)).json()) as { id: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((t) => t.id.startsWith("core:user:"));
  if (!target) throw new Error(`No user Worker among the inspector's targets: ${targets.map((t) => t.id).join(", ")}`);
  const ws = new WebSocketImpl(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error(`Cannot connect to ${target.webSocketDebuggerUrl}`)));
  });
  let lastId = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  ws.addEventListener("message", ({ data }) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter || message.id === undefined) return; // events: not asked for
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result);
  });
  ws.addEventListener("close", () => {
    for (const waiter of pending.values()) waiter.reject(new Error("Inspector connection closed"));
    pending.clear();
  });
  return {
    send: <T>(method: string, params: Record<string, unknown> = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = ++lastId;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

// ---------- source maps ----------

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Generated line → [generated column, source index, original line] triples, sorted by column. */
type Segments = number[][];

/** Looks up the original file and line (1-based) of a 0-based bundle position, from a version 3 source map. */
export function sourceMapLookup(
  mapPath: string,
): (line: number, column: number) => { source: string; line: number; lines: string[] } | undefined {
  const map = JSON.parse(readFileSync(mapPath, "utf8")) as { sources: string[]; sourcesContent?: (string | null)[]; mappings: string };
  const contents = new Map<number, string[]>();
  const linesOf = (index: number) => {
    let lines = contents.get(index);
    if (!lines) {
      lines = map.sourcesContent?.[index]?.split("\n") ?? [];
      contents.set(index, lines);
    }
    return lines;
  };
  const lines: Segments[] = [];
  let source = 0;
  let originalLine = 0;
  for (const lineText of map.mappings.split(";")) {
    const segments: Segments = [];
    let column = 0;
    for (const segmentText of lineText ? lineText.split(",") : []) {
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segmentText) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0];
      if (fields.length >= 4) {
        source += fields[1];
        originalLine += fields[2];
        segments.push([column, source, originalLine]);
      }
    }
    lines.push(segments);
  }
  return (line, column) => {
    const segments = lines[line];
    if (!segments?.length) return undefined;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid][0] <= column) lo = mid;
      else hi = mid - 1;
    }
    const [, sourceIndex, original] = segments[lo];
    return { source: projectPath(map.sources[sourceIndex]), line: original + 1, lines: linesOf(sourceIndex) };
  };
}

/** `../../../work/x/node_modules/hono/dist/context.js` → `node_modules/hono/dist/context.js`; `…/src/db/client.ts` → `src/db/client.ts`. */
function projectPath(source: string): string {
  // drizzle-orm's own source maps point one level above its folder (`../src/…`).
  source = source.replace("/node_modules/src/", "/node_modules/drizzle-orm/src/");
  const at = source.lastIndexOf("node_modules/");
  if (at >= 0) return source.slice(at);
  const src = source.lastIndexOf("/src/");
  return src >= 0 ? source.slice(src + 1) : source;
}

/**
 * A package shipped minified but built with esbuild's keepNames names its
 * functions in a call like `a(yi,"resolveConnectionParams")` just after
 * them: the readable name of minified function `id` defined at `line`.
 */
function keptName(lines: string[], line: number, id: string): string | undefined {
  // Such files wrap long lines inside strings with a backslash-newline.
  const text = lines
    .slice(line - 1, line + 40)
    .join("\n")
    .replaceAll("\\\n", "");
  const call = `a(${id},"`;
  const at = text.indexOf(call);
  return at >= 0 ? text.slice(at + call.length, text.indexOf('"', at + call.length)) : undefined;
}

/** Who a source file belongs to: the npm package, or our own file under src/. */
export function ownerOf(source: string): string {
  const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  return match ? match[1] : source;
}

// ---------- profile arithmetic ----------

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FunctionCost {
  name: string;
  /** `src/…:line` or `node_modules/…:line` through the source map; `(native)` for runtime built-ins; empty for V8's own entries. */
  location: string;
  /** Package or src/ file; `(native)` or V8's entry name otherwise. */
  owner: string;
  self: number;
  total: number;
}

export interface ProfileSummary {
  /** Samples not spent idle: the Worker's thread doing anything (JS, GC, runtime code). */
  busy: number;
  idle: number;
  functions: FunctionCost[];
  /** Self samples per owner (package, src/ file, native, V8 entries). */
  owners: Map<string, number>;
  /** Samples with the owner anywhere on the stack. */
  ownerTotals: Map<string, number>;
}

const V8_ENTRIES = new Set(["(root)", "(program)", "(idle)", "(garbage collector)"]);

/**
 * Self samples: the function was on top of the stack. Total samples: it was
 * anywhere on the stack (counted once per sample even when recursive), as
 * DevTools' bottom-up view does.
 */
export function summarize(profile: CpuProfile, lookup: ReturnType<typeof sourceMapLookup>): ProfileSummary {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);

  const functions = new Map<string, FunctionCost>();
  const costOf = (frame: CallFrame): FunctionCost => {
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}|${frame.columnNumber}`;
    let cost = functions.get(key);
    if (!cost) {
      const original = frame.url ? lookup(frame.lineNumber, frame.columnNumber) : undefined;
      const kept = original && frame.functionName ? keptName(original.lines, original.line, frame.functionName) : undefined;
      const name = kept ? `${kept} (${frame.functionName})` : frame.functionName || "(anonymous)";
      const location = original ? `${original.source}:${original.line}` : frame.url ? `${frame.url}:${frame.lineNumber + 1}` : "";
      const owner = original ? ownerOf(original.source) : V8_ENTRIES.has(name) ? name : "(native)";
      cost = { name, location: location || (owner === "(native)" ? "(native)" : ""), owner, self: 0, total: 0 };
      functions.set(key, cost);
    }
    return cost;
  };

  const ownerTotals = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, count] of hits) {
    const leaf = byId.get(id);
    if (!leaf) continue;
    if (leaf.callFrame.functionName === "(idle)") {
      idle += count;
      continue;
    }
    busy += count;
    costOf(leaf.callFrame).self += count;
    const seen = new Set<FunctionCost>();
    for (let node: typeof leaf | undefined = leaf; node; node = byId.get(parent.get(node.id) ?? -1)) {
      if (node.callFrame.functionName === "(root)") break;
      seen.add(costOf(node.callFrame));
    }
    for (const cost of seen) cost.total += count;
    for (const owner of new Set([...seen].map((cost) => cost.owner))) ownerTotals.set(owner, (ownerTotals.get(owner) ?? 0) + count);
  }
  const owners = new Map<string, number>();
  for (const cost of functions.values()) owners.set(cost.owner, (owners.get(cost.owner) ?? 0) + cost.self);
  return { busy, idle, functions: [...functions.values()], owners, ownerTotals };
}
