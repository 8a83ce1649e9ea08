/**
 * The one place that knows which JavaScript runtime runs filament (Bun or Deno, from the same
 * sources). Everything else uses web-standard and `node:` APIs.
 * @module
 */

interface RuntimeGlobals {
  Bun?: { version: string };
  Deno?: { version: { deno: string } };
}

/** The runtime's name and version, e.g. `bun 1.4.4` or `deno 2.9.5`. */
export function runtimeDescription(): string {
  const g = globalThis as RuntimeGlobals;
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${process.versions.node}`;
}

/** The platform the process runs on, in Bun's target naming: `linux-x64`, `linux-arm64`, … */
export function platformTarget(): string {
  return `${process.platform}-${process.arch}`;
}
export { Reclaimer, type ReclaimerOptions } from './reclaim.ts';
export { createNotifier, type Notifier, watchdogIntervalMs } from './sd-notify.ts';
