import pkg from '../../package.json' with { type: 'json' };

/** filament's version, from package.json (embedded at build time). */
export const FILAMENT_VERSION: string = pkg.version;
