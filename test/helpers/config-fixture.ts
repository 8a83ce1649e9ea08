import { ConfigError } from '../../src/config/index.ts';

/** The smallest valid config document. */
export const MINIMAL_CONFIG = {
  identity: { cluster: 'gpu-east' },
  broker: { urls: ['mqtt://127.0.0.1:1883'] },
  rules: { tenants: ['acme'] },
};

/** The problems of the ConfigError `run` throws; fails the test when it throws none. */
export function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
