/** Thrown when configuration is invalid; `problems` lists every violation, one sentence each. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`, options);
  }
}
