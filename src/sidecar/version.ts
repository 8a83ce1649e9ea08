import pkg from '../../package.json' with { type: 'json' };

/** filament's version, from package.json (embedded at build time). */
export const FILAMENT_VERSION: string = pkg.version;

// Replaced by `bun build --define` in build/compile.ts; absent when running from sources.
declare const FILAMENT_BUILD_COMMIT: string | undefined;

/** The git commit the binary was built from, or `source` when running from a checkout. */
export const FILAMENT_COMMIT: string =
  typeof FILAMENT_BUILD_COMMIT === 'string' ? FILAMENT_BUILD_COMMIT : 'source';
