/**
 * Headless Chromium for the browser tests (the docs page, the admin
 * console): Debian's package driven by playwright-core. Where none is
 * installed a test file is skipped with a message — except in CI (`CI` set),
 * where a missing browser fails it.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// Offline-friendly flags: without the background-networking ones Chromium keeps dialling out.
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Whether Chromium is here; says why a test is skipped, and throws in CI. `name` labels the messages. */
export function chromiumAvailable(name: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`[${name}] no Chromium at ${CHROMIUM}, and CI must run this test`);
  console.warn(`[${name}] skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return false;
}

/** A fresh browser (playwright gives every launch a new, empty profile of its own). */
export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
