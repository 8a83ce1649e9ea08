import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildConfig, parseConfigText } from '../../src/config/index.ts';

const root = join(import.meta.dir, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/**
 * The Envoy example cannot be run here (no Envoy binary); this holds it to what the docs and
 * the sample config say, so it does not drift from them.
 */
describe('examples/envoy', () => {
  test('a client_side_weighted_round_robin cluster with out-of-band ORCA to the sidecar port', () => {
    const envoy = Bun.YAML.parse(read('examples/envoy/envoy.yaml')) as {
      static_resources: { clusters: Array<Record<string, unknown>> };
    };
    type Policies = {
      policies: Array<{
        typed_extension_config: { name: string; typed_config: Record<string, unknown> };
      }>;
    };
    const [cluster] = envoy.static_resources.clusters;
    const policy = (cluster?.load_balancing_policy as Policies | undefined)?.policies[0]
      ?.typed_extension_config;
    expect(policy?.name).toBe('envoy.load_balancing_policies.client_side_weighted_round_robin');
    expect(policy?.typed_config).toMatchObject({
      '@type':
        'type.googleapis.com/envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin',
      enable_oob_load_report: true,
      oob_reporting_period: '1s',
      oob_reporting_config: { port_value: 9468 },
    });
    expect(read('examples/envoy/envoy.yaml')).toContain('NOT VERIFIED HERE');
    // The port every document names for [orca] listen.
    expect(read('examples/config/filament.toml')).toContain('# listen = "0.0.0.0:9468"');
    expect(read('docs/load-balancers.md')).toContain('0.0.0.0:9468');
  });

  test('the [orca] section of the sample config is one filament accepts', () => {
    const text = read('examples/config/filament.toml').replace(
      /# \[orca\][^\n]*\n# (listen[^\n]*)\n# (max_connections[^\n]*)\n/,
      '[orca]\n$1\n$2\n',
    );
    expect(text).toContain('[orca]\nlisten = "0.0.0.0:9468"');
    const config = buildConfig(parseConfigText(text, 'filament.toml'));
    expect(config).toMatchObject({ orca: { listen: '0.0.0.0:9468', maxConnections: 256 } });
  });
});
