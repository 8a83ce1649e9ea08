import { describe, expect, test } from 'bun:test';
import { buildConfig, flagsToDocument } from '../../src/config/index.ts';
import { MINIMAL_CONFIG, problemsOf } from '../helpers/config-fixture.ts';

const minimal = MINIMAL_CONFIG;

describe('the configuration is checked in one pass', () => {
  test('schema violations, TLS mistakes, the threshold and a relative state.dir, all at once', () => {
    const problems = problemsOf(() =>
      buildConfig({
        ...minimal,
        broker: {
          urls: ['mqtt://127.0.0.1:1883'],
          tls: { cert_file: '/etc/c.pem' },
          keepalive_seconds: 'x',
        },
        rules: { tenants: ['acme'], signature_threshold: 3 },
        state: { dir: 'relative/state' },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('broker.keepalive_seconds'),
        expect.stringContaining('broker.tls: set, but these broker URLs do not use TLS'),
        expect.stringContaining('broker.tls: cert_file and key_file go together'),
        expect.stringContaining('rules.signature_threshold: 3 is more than the 0 trusted key(s)'),
        expect.stringContaining('state.dir'),
      ]),
    );
    expect(problems.length).toBe(5);
  });
});

describe('broker URLs', () => {
  const cases: Array<[string, string]> = [
    ['mqtt://127.0.0.1:', 'the port is empty (leave out the colon for the default)'],
    ['mqtt://user:pw@broker:', 'the port is empty (leave out the colon for the default)'],
    ['mqtt://127.0.0.1:70000', 'port 70000 is not between 1 and 65535'],
    ['mqtt://127.0.0.1:0', 'port 0 is not between 1 and 65535'],
  ];
  for (const [url, problem] of cases)
    test(`${url} is refused: ${problem}`, () => {
      expect(problemsOf(() => buildConfig(minimal, flagsToDocument({ broker: [url] })))).toEqual([
        `broker.urls[0] (--broker): ${problem} (got "${url}") [url]`,
      ]);
    });

  test('a URL with a port, without one, or IPv6 in brackets is fine', () => {
    for (const url of ['mqtt://broker:1883', 'mqtts://broker', 'mqtt://[::1]:1883', 'ws://b/mqtt'])
      expect(buildConfig(minimal, flagsToDocument({ broker: [url] })).broker.urls).toEqual([url]);
  });
});
