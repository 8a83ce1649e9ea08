/**
 * The OpenMetrics 1.0 text cases, as the OpenMetrics test suite has them (its text cases come
 * from prometheus_client's parser tests, tests/openmetrics/test_parser.py): bodies a parser must
 * read, with what it must read from them, and bodies it must refuse (test_invalid_input, every
 * case). Inputs are as written there.
 */
import { describe, expect, test } from 'bun:test';
import { type Family, parseExposition } from '../../src/exposition/index.ts';

const om = (text: string) => parseExposition(text, { format: 'openmetrics' });

function read(text: string): ReadonlyMap<string, Family> {
  const result = om(text);
  if (!result.ok) throw new Error(`refused: line ${result.error.line}: ${result.error.message}`);
  return result.families;
}

/** name → [sample name, labels, value, timestamp ms?] for each sample, for compact expectations. */
function samplesOf(families: ReadonlyMap<string, Family>) {
  const out: Record<string, { type: string; help?: string; unit?: string; samples: unknown[] }> =
    {};
  for (const f of families.values())
    out[f.name] = {
      type: f.type,
      ...(f.help !== undefined ? { help: f.help } : {}),
      ...(f.unit !== undefined ? { unit: f.unit } : {}),
      samples: f.samples.map((s) => [
        s.name,
        { ...s.labels },
        s.value,
        ...(s.timestampMs !== undefined ? [s.timestampMs] : []),
      ]),
    };
  return out;
}

const VALID: Array<[string, string, Record<string, unknown>]> = [
  [
    'simple counter',
    '# TYPE a counter\n# HELP a help\na_total 1\n# EOF\n',
    { a: { type: 'counter', help: 'help', samples: [['a_total', {}, 1]] } },
  ],
  [
    'uint64 counter',
    '# TYPE a counter\n# HELP a help\na_total 9223372036854775808\n# EOF\n',
    { a: { type: 'counter', help: 'help', samples: [['a_total', {}, 2 ** 63]] } },
  ],
  [
    'simple gauge',
    '# TYPE a gauge\n# HELP a help\na 1\n# EOF\n',
    { a: { type: 'gauge', help: 'help', samples: [['a', {}, 1]] } },
  ],
  [
    'float gauge',
    '# TYPE a gauge\n# HELP a help\na 1.2\n# EOF\n',
    { a: { type: 'gauge', help: 'help', samples: [['a', {}, 1.2]] } },
  ],
  [
    'leading zeros',
    '# TYPE a gauge\n# HELP a help\na 0000000000000000000000000000000000000000001\n# EOF\n',
    { a: { type: 'gauge', help: 'help', samples: [['a', {}, 1]] } },
  ],
  [
    'leading zeros float',
    '# TYPE a gauge\n# HELP a help\na 0000000000000000000000000000000000000000001.2e-1\n# EOF\n',
    { a: { type: 'gauge', help: 'help', samples: [['a', {}, 0.12]] } },
  ],
  [
    'unit gauge',
    '# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n# HELP a_seconds help\na_seconds 1\n# EOF\n',
    {
      a_seconds: { type: 'gauge', help: 'help', unit: 'seconds', samples: [['a_seconds', {}, 1]] },
    },
  ],
  [
    'simple summary',
    '# TYPE a summary\n# HELP a help\na_count 1\na_sum 2\n# EOF\n',
    {
      a: {
        type: 'summary',
        help: 'help',
        samples: [
          ['a_count', {}, 1],
          ['a_sum', {}, 2],
        ],
      },
    },
  ],
  [
    'summary quantiles',
    '# TYPE a summary\n# HELP a help\na_count 1\na_sum 2\na{quantile="0.5"} 0.7\na{quantile="1"} 0.8\n# EOF\n',
    {
      a: {
        type: 'summary',
        help: 'help',
        samples: [
          ['a_count', {}, 1],
          ['a_sum', {}, 2],
          ['a', { quantile: '0.5' }, 0.7],
          ['a', { quantile: '1' }, 0.8],
        ],
      },
    },
  ],
  [
    'simple histogram',
    '# TYPE a histogram\n# HELP a help\na_bucket{le="1.0"} 0\na_bucket{le="+Inf"} 3\na_count 3\na_sum 2\n# EOF\n',
    {
      a: {
        type: 'histogram',
        help: 'help',
        samples: [
          ['a_bucket', { le: '1.0' }, 0],
          ['a_bucket', { le: '+Inf' }, 3],
          ['a_count', {}, 3],
          ['a_sum', {}, 2],
        ],
      },
    },
  ],
  [
    'negative bucket histogram',
    '# TYPE a histogram\n# HELP a help\na_bucket{le="-1.0"} 0\na_bucket{le="1.0"} 1\na_bucket{le="+Inf"} 3\n# EOF\n',
    {
      a: {
        type: 'histogram',
        help: 'help',
        samples: [
          ['a_bucket', { le: '-1.0' }, 0],
          ['a_bucket', { le: '1.0' }, 1],
          ['a_bucket', { le: '+Inf' }, 3],
        ],
      },
    },
  ],
  [
    'simple gaugehistogram',
    '# TYPE a gaugehistogram\n# HELP a help\na_bucket{le="1.0"} 0\na_bucket{le="+Inf"} 3\na_gcount 3\na_gsum 2\n# EOF\n',
    {
      a: {
        type: 'gaugehistogram',
        help: 'help',
        samples: [
          ['a_bucket', { le: '1.0' }, 0],
          ['a_bucket', { le: '+Inf' }, 3],
          ['a_gcount', {}, 3],
          ['a_gsum', {}, 2],
        ],
      },
    },
  ],
  [
    'negative bucket gaugehistogram',
    '# TYPE a gaugehistogram\n# HELP a help\na_bucket{le="-1.0"} 1\na_bucket{le="1.0"} 2\na_bucket{le="+Inf"} 3\na_gcount 3\na_gsum -5\n# EOF\n',
    {
      a: {
        type: 'gaugehistogram',
        help: 'help',
        samples: [
          ['a_bucket', { le: '-1.0' }, 1],
          ['a_bucket', { le: '1.0' }, 2],
          ['a_bucket', { le: '+Inf' }, 3],
          ['a_gcount', {}, 3],
          ['a_gsum', {}, -5],
        ],
      },
    },
  ],
  [
    'counter exemplars',
    '# TYPE a counter\n# HELP a help\na_total 0 123 # {a="b"} 0.5\n# EOF\n',
    { a: { type: 'counter', help: 'help', samples: [['a_total', {}, 0, 123000]] } },
  ],
  [
    'simple info',
    '# TYPE a info\n# HELP a help\na_info{foo="bar"} 1\n# EOF\n',
    { a: { type: 'info', help: 'help', samples: [['a_info', { foo: 'bar' }, 1]] } },
  ],
  [
    'simple stateset',
    '# TYPE a stateset\n# HELP a help\na{a="bar"} 0\na{a="foo"} 1.0\n# EOF\n',
    {
      a: {
        type: 'stateset',
        help: 'help',
        samples: [
          ['a', { a: 'bar' }, 0],
          ['a', { a: 'foo' }, 1],
        ],
      },
    },
  ],
  ['no metadata', 'a 1\n# EOF\n', { a: { type: 'unknown', samples: [['a', {}, 1]] } }],
  [
    'untyped (TYPE unknown)',
    '# HELP redis_connected_clients Redis connected clients\n# TYPE redis_connected_clients unknown\nredis_connected_clients{instance="rough-snowflake-web",port="6380"} 10.0\nredis_connected_clients{instance="rough-snowflake-web",port="6381"} 12.0\n# EOF\n',
    {
      redis_connected_clients: {
        type: 'unknown',
        help: 'Redis connected clients',
        samples: [
          ['redis_connected_clients', { instance: 'rough-snowflake-web', port: '6380' }, 10],
          ['redis_connected_clients', { instance: 'rough-snowflake-web', port: '6381' }, 12],
        ],
      },
    },
  ],
  [
    'type and help switched',
    '# HELP a help\n# TYPE a counter\na_total 1\n# EOF\n',
    { a: { type: 'counter', help: 'help', samples: [['a_total', {}, 1]] } },
  ],
  [
    'labels with curly braces',
    '# TYPE a counter\n# HELP a help\na_total{foo="bar",bar="b{a}z"} 1\n# EOF\n',
    {
      a: { type: 'counter', help: 'help', samples: [['a_total', { foo: 'bar', bar: 'b{a}z' }, 1]] },
    },
  ],
  [
    'empty help',
    '# TYPE a counter\n# HELP a \na_total 1\n# EOF\n',
    { a: { type: 'counter', help: '', samples: [['a_total', {}, 1]] } },
  ],
  [
    'labels and infinite',
    '# TYPE a gauge\n# HELP a help\na{foo="bar"} +Inf\na{foo="baz"} -Inf\n# EOF\n',
    {
      a: {
        type: 'gauge',
        help: 'help',
        samples: [
          ['a', { foo: 'bar' }, Number.POSITIVE_INFINITY],
          ['a', { foo: 'baz' }, Number.NEGATIVE_INFINITY],
        ],
      },
    },
  ],
  [
    'empty brackets',
    '# TYPE a counter\n# HELP a help\na_total{} 1\n# EOF\n',
    { a: { type: 'counter', help: 'help', samples: [['a_total', {}, 1]] } },
  ],
  [
    'no newline after EOF',
    '# TYPE a gauge\n# HELP a help\na 1\n# EOF',
    { a: { type: 'gauge', help: 'help', samples: [['a', {}, 1]] } },
  ],
  [
    'empty label',
    '# TYPE a counter\n# HELP a help\na_total{foo="bar"} 1\na_total{foo=""} 2\n# EOF\n',
    {
      a: {
        type: 'counter',
        help: 'help',
        samples: [
          ['a_total', { foo: 'bar' }, 1],
          ['a_total', { foo: '' }, 2],
        ],
      },
    },
  ],
  [
    'escaping',
    '# TYPE a counter\n# HELP a he\\n\\\\l\\tp\na_total{foo="b\\"a\\nr"} 1\na_total{foo="b\\\\a\\z"} 2\na_total{foo="b\\"a\\nr # "} 3\na_total{foo="b\\\\a\\z # "} 4\n# EOF\n',
    {
      a: {
        type: 'counter',
        help: 'he\n\\l\\tp',
        samples: [
          ['a_total', { foo: 'b"a\nr' }, 1],
          ['a_total', { foo: 'b\\a\\z' }, 2],
          ['a_total', { foo: 'b"a\nr # ' }, 3],
          ['a_total', { foo: 'b\\a\\z # ' }, 4],
        ],
      },
    },
  ],
  [
    'null byte',
    '# TYPE a counter\n# HELP a he\0lp\na_total 1\n# EOF\n',
    { a: { type: 'counter', help: 'he\0lp', samples: [['a_total', {}, 1]] } },
  ],
  [
    'timestamps',
    '# TYPE a counter\n# HELP a help\na_total{foo="1"} 1 000\na_total{foo="2"} 1 0.0\na_total{foo="3"} 1 1.1\na_total{foo="5"} 1 1.5e3\n# TYPE b counter\n# HELP b help\nb_total 2 1234567890\n# EOF\n',
    {
      a: {
        type: 'counter',
        help: 'help',
        samples: [
          ['a_total', { foo: '1' }, 1, 0],
          ['a_total', { foo: '2' }, 1, 0],
          ['a_total', { foo: '3' }, 1, 1100],
          ['a_total', { foo: '5' }, 1, 1500000],
        ],
      },
      b: { type: 'counter', help: 'help', samples: [['b_total', {}, 2, 1234567890000]] },
    },
  ],
  [
    'hash in label value',
    '# TYPE a counter\n# HELP a help\na_total{foo="foo # bar"} 1\na_total{foo="} foo # bar # "} 1\n# EOF\n',
    {
      a: {
        type: 'counter',
        help: 'help',
        samples: [
          ['a_total', { foo: 'foo # bar' }, 1],
          ['a_total', { foo: '} foo # bar # ' }, 1],
        ],
      },
    },
  ],
];

/** Bodies read without an expectation beyond "read" (exemplars, round trips, odd but valid). */
const READ_ONLY: Array<[string, string]> = [
  [
    'histogram exemplars',
    `# TYPE a histogram\n# HELP a help\na_bucket{le="1.0"} 0 # {a="b"} 0.5\na_bucket{le="2.0"} 2 # {a="c"} 0.5\na_bucket{le="+Inf"} 3 # {a="2345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678"} 4 123\n# EOF\n`,
  ],
  [
    'gaugehistogram exemplars',
    '# TYPE a gaugehistogram\n# HELP a help\na_bucket{le="1.0"} 0 123 # {a="b"} 0.5\na_bucket{le="2.0"} 2 123 # {a="c"} 0.5\na_bucket{le="+Inf"} 3 123 # {a="d"} 4 123\n# EOF\n',
  ],
  [
    'counter exemplars, empty brackets',
    '# TYPE a counter\n# HELP a help\na_total{} 0 123 # {a="b"} 0.5\n# EOF\n',
  ],
  [
    'histogram, non-canonical bounds',
    '# TYPE a histogram\n# HELP a help\na_bucket{le="0"} 0\na_bucket{le="0.00000000001"} 0\na_bucket{le="0.0000000001"} 0\na_bucket{le="1e-04"} 0\na_bucket{le="1.1e-4"} 0\na_bucket{le="1.1e-3"} 0\na_bucket{le="1.1e-2"} 0\na_bucket{le="1"} 0\na_bucket{le="1e+05"} 0\na_bucket{le="10000000000"} 0\na_bucket{le="100000000000.0"} 0\na_bucket{le="+Inf"} 3\na_count 3\na_sum 2\n# EOF\n',
  ],
  [
    'histogram float values',
    '# TYPE a histogram\n# HELP a help\na_bucket{le="1.0"} 0.0\na_bucket{le="+Inf"} 3.0\na_count 3.0\na_sum 2.0\n# EOF\n',
  ],
  [
    'info timestamps',
    '# TYPE a info\n# HELP a help\na_info{a="1",foo="bar"} 1 1\na_info{a="2",foo="bar"} 1 0\n# EOF\n',
  ],
  [
    'duplicate timestamps',
    '# TYPE a gauge\n# HELP a help\na{a="1",foo="bar"} 1 0.0000000000\na{a="1",foo="bar"} 2 0.0000000001\na{a="1",foo="bar"} 3 0.0000000010\na{a="2",foo="bar"} 4 0.0000000000\na{a="2",foo="bar"} 5 0.0000000001\n# EOF\n',
  ],
  ['empty metadata', '# HELP a \n# UNIT a \n# EOF\n'],
  [
    'exemplars with hash in label values',
    '# TYPE a histogram\n# HELP a help\na_bucket{le="1.0",foo="bar # "} 0 # {a="b",foo="bar # bar"} 0.5\na_bucket{le="2.0",foo="bar # "} 2 # {a="c",foo="bar # bar"} 0.5\na_bucket{le="+Inf",foo="bar # "} 3 # {a="d",foo="bar # bar"} 4\n# EOF\n',
  ],
  [
    'round trip',
    '# HELP go_gc_duration_seconds A summary of the GC invocation durations.\n# TYPE go_gc_duration_seconds summary\ngo_gc_duration_seconds{quantile="0.0"} 0.013300656000000001\ngo_gc_duration_seconds{quantile="0.25"} 0.013638736\ngo_gc_duration_seconds{quantile="0.5"} 0.013759906\ngo_gc_duration_seconds{quantile="0.75"} 0.013962066\ngo_gc_duration_seconds{quantile="1.0"} 0.021383540000000003\ngo_gc_duration_seconds_sum 56.12904785\ngo_gc_duration_seconds_count 7476.0\n# HELP go_goroutines Number of goroutines that currently exist.\n# TYPE go_goroutines gauge\ngo_goroutines 166.0\n# HELP process_cpu_seconds Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total 29323.4\n# HELP foo histogram Testing histogram buckets\n# TYPE foo histogram\nfoo_bucket{le="0.0"} 0.0\nfoo_bucket{le="1e-05"} 0.0\nfoo_bucket{le="0.0001"} 0.0\nfoo_bucket{le="0.1"} 8.0\nfoo_bucket{le="1.0"} 10.0\nfoo_bucket{le="10.0"} 17.0\nfoo_bucket{le="100000.0"} 17.0\nfoo_bucket{le="1e+06"} 17.0\nfoo_bucket{le="1.55555555555552e+06"} 17.0\nfoo_bucket{le="1e+23"} 17.0\nfoo_bucket{le="+Inf"} 17.0\nfoo_count 17.0\nfoo_sum 324789.3\nfoo_created 1.520430000123e+09\n# HELP bar histogram Testing with labels\n# TYPE bar histogram\nbar_bucket{a="b",le="+Inf"} 0.0\nbar_bucket{a="c",le="+Inf"} 0.0\n# EOF\n',
  ],
];

const INVALID: string[] = [
  '',
  'a 1\n\n# EOF\n',
  'a 1\n# EOF\nblah',
  'a 1\n# EOFblah',
  'a{a=1} 1\n# EOF\n',
  'a{a="1} 1\n# EOF\n',
  "a{a='1'} 1\n# EOF\n",
  'a{a} 1\n# EOF\n',
  'a{a"value"} 1\n# EOF\n',
  'a{a""} 1\n# EOF\n',
  'a{a=} 1\n# EOF\n',
  'a{a="} 1\n# EOF\n',
  'a{a="1"b="2"} 1\n# EOF\n',
  'a{a="1",,b="2"} 1\n# EOF\n',
  'a{a="1",b="2",} 1\n# EOF\n',
  'a{1="1"} 1\n# EOF\n',
  'a{1="1"}1\n# EOF\n',
  'a{a="1",a="1"} 1\n# EOF\n',
  'a{a="1"b} 1\n# EOF\n',
  'a{1=" # "} 1\n# EOF\n',
  'a{a=" # ",a=" # "} 1\n# EOF\n',
  'a{a=" # "}1\n# EOF\n',
  'a{a=" # ",b=}1\n# EOF\n',
  'a{a=" # "b}1\n# EOF\n',
  'a\n# EOF\n',
  'a \n# EOF\n',
  '# HELP\n# EOF\n',
  '# HELP \n# EOF\n',
  '# HELP a\n# EOF\n',
  '# HELP a\t\n# EOF\n',
  ' # HELP a meh\n# EOF\n',
  '# TYPE\n# EOF\n',
  '# TYPE \n# EOF\n',
  '# TYPE a\n# EOF\n',
  '# TYPE a\t\n# EOF\n',
  '# TYPE a meh\n# EOF\n',
  '# TYPE a meh \n# EOF\n',
  '# TYPE a gauge \n# EOF\n',
  '# TYPE a untyped\n# EOF\n',
  '# UNIT\n# EOF\n',
  '# UNIT \n# EOF\n',
  '# UNIT a\n# EOF\n',
  '# UNIT a\t\n# EOF\n',
  '# UNIT a seconds\n# EOF\n',
  '# UNIT a_seconds seconds \n# EOF\n',
  '# TYPE x_u info\n# UNIT x_u u\n# EOF\n',
  '# TYPE x_u stateset\n# UNIT x_u u\n# EOF\n',
  '# HELP a x\na 1\n# TYPE a gauge\n# EOF\n',
  '# TYPE a gauge\na 1\n# HELP a gauge\n# EOF\n',
  '# TYPE a_s gauge\na_s 1\n# UNIT a_s s\n# EOF\n',
  '# HELP a \n# HELP a \n# EOF\n',
  '# HELP a x\n# HELP a x\n# EOF\n',
  '# TYPE a untyped\n# TYPE a untyped\n# EOF\n',
  '# UNIT a_s s\n# UNIT a_s s\n# EOF\n',
  '# FOO a x\n# EOF\n',
  '0a 1\n# EOF\n',
  'a.b 1\n# EOF\n',
  'a-b 1\n# EOF\n',
  'a a\n# EOF\n',
  'a  1\n# EOF\n',
  'a 1\t\n# EOF\n',
  'a 1 \n# EOF\n',
  'a 1_2\n# EOF\n',
  'a 0x1p-3\n# EOF\n',
  'a 0x1P-3\n# EOF\n',
  'a 0b1\n# EOF\n',
  'a 0B1\n# EOF\n',
  'a 0x1\n# EOF\n',
  'a 0X1\n# EOF\n',
  'a 0o1\n# EOF\n',
  'a 0O1\n# EOF\n',
  'a 1 z\n# EOF\n',
  'a 1 1z\n# EOF\n',
  'a 1 1_2\n# EOF\n',
  'a 1 1.1.1\n# EOF\n',
  'a 1 NaN\n# EOF\n',
  'a 1 Inf\n# EOF\n',
  'a 1 +Inf\n# EOF\n',
  'a 1 -Inf\n# EOF\n',
  'a 1 0x1p-3\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 1 #\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 1# {} 1\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 1 #{} 1\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 1 # {}1\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 1 # {} 1 \n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 1 # {} 1 1 \n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 1 # {a="23456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"} 1 1\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 1 # {} 0x1p-3\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 1 # {} 1 0x1p-3\n# EOF\n',
  '# TYPE a counter\na_total 1 1 # {id="a"}  \n# EOF\n',
  '# TYPE a counter\na_total 1 1 # id="a"} 1\n# EOF\n',
  '# TYPE a counter\na_total 1 1 #id=" # "} 1\n# EOF\n',
  '# TYPE a counter\na_total 1 1 id=" # "} 1\n# EOF\n',
  '# TYPE a histogram\na_sum 1 # {a="b"} 0.5\n# EOF\n',
  '# TYPE a gaugehistogram\na_sum 1 # {a="b"} 0.5\n# EOF\n',
  '# TYPE a_bucket gauge\na_bucket 1 # {a="b"} 0.5\n# EOF\n',
  '# TYPE a counter\na_created 1 # {a="b"} 0.5\n# EOF\n',
  '# TYPE a gauge\na 1 # {a="b"} 1\n# EOF\n',
  '# TYPE a info\na_info 1 # {a="b"} 1\n# EOF\n',
  '# TYPE a stateset\na{a="b"} 1 # {c="d"} 1\n# EOF\n',
  '# TYPE a stateset\na 2\n# EOF\n',
  '# TYPE a info\na 2\n# EOF\n',
  '# TYPE a stateset\na 2.0\n# EOF\n',
  '# TYPE a info\na 2.0\n# EOF\n',
  '# TYPE a summary\na 0\n# EOF\n',
  '# TYPE a summary\na{quantile="-1"} 0\n# EOF\n',
  '# TYPE a summary\na{quantile="foo"} 0\n# EOF\n',
  '# TYPE a summary\na{quantile="1.01"} 0\n# EOF\n',
  '# TYPE a summary\na{quantile="NaN"} 0\n# EOF\n',
  '# TYPE a histogram\na_bucket 0\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket 0\n# EOF\n',
  '# TYPE a stateset\na 0\n# EOF\n',
  '# TYPE a counter\na_total NaN\n# EOF\n',
  '# TYPE a counter\na_total -1\n# EOF\n',
  '# TYPE a histogram\na_sum NaN\n# EOF\n',
  '# TYPE a histogram\na_count NaN\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} NaN\n# EOF\n',
  '# TYPE a histogram\na_sum -1\n# EOF\n',
  '# TYPE a histogram\na_count -1\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} -1\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="-1.0"} 1\na_bucket{le="+Inf"} 2\na_sum -1\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="-1.0"} 1\na_bucket{le="+Inf"} 2\na_sum 1\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 0.5\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 0.5\na_count 0.5\na_sum 0\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket{le="+Inf"} NaN\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket{le="+Inf"} -1\na_gcount -1\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket{le="+Inf"} -1\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket{le="+Inf"} 1\na_gsum -1\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket{le="+Inf"} 1\na_gsum NaN\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket{le="+Inf"} 0.5\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket{le="+Inf"} 0.5\na_gsum 0.5\na_gcount 0\n# EOF\n',
  '# TYPE a summary\na_sum NaN\n# EOF\n',
  '# TYPE a summary\na_count NaN\n# EOF\n',
  '# TYPE a summary\na_sum -1\n# EOF\n',
  '# TYPE a summary\na_count -1\n# EOF\n',
  '# TYPE a summary\na_count 0.5\n# EOF\n',
  '# TYPE a summary\na{quantile="0.5"} -1\n# EOF\n',
  '# TYPE a info\na_info{foo="bar"} 2\n# EOF\n',
  '# TYPE a stateset\na{a="bar"} 2\n# EOF\n',
  '# TYPE a histogram\na_sum 1\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 0\na_sum 0\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 0\na_count 0\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="-1"} 0\na_bucket{le="+Inf"} 0\na_sum 0\na_count 0\n# EOF\n',
  '# TYPE a gaugehistogram\na_gsum 1\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket{le="+Inf"} 0\na_gsum 0\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket{le="+Inf"} 0\na_gcount 0\n# EOF\n',
  '# TYPE a gaugehistogram\na_bucket{le="+Inf"} 1\na_gsum -1\na_gcount 1\n# EOF\n',
  '# TYPE a histogram\na_count 1\na_bucket{le="+Inf"} 0\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+Inf"} 0\na_count 1\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="+INF"} 0\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="2"} 0\na_bucket{le="1"} 0\na_bucket{le="+Inf"} 0\n# EOF\n',
  '# TYPE a histogram\na_bucket{le="1"} 1\na_bucket{le="2"} 1\na_bucket{le="+Inf"} 0\n# EOF\n',
  '# TYPE a histogram\na_sum{a="1"} 0\na_sum{a="2"} 0\na_count{a="1"} 0\n# EOF\n',
  '# TYPE a histogram\na_bucket{a="1",le="1"} 0\na_bucket{a="2",le="+Inf""} 0\na_bucket{a="1",le="+Inf"} 0\n# EOF\n',
  '# TYPE a gaugehistogram\na_gsum{a="1"} 0\na_gsum{a="2"} 0\na_gcount{a="1"} 0\n# EOF\n',
  '# TYPE a summary\nquantile{quantile="0"} 0\na_sum{a="1"} 0\nquantile{quantile="1"} 0\n# EOF\n',
  '# TYPE a gauge\na 0 -1\na 0 -2\n# EOF\n',
  '# TYPE a gauge\na 0 -1\na 0 -1.1\n# EOF\n',
  '# TYPE a gauge\na 0 1\na 0 -1\n# EOF\n',
  '# TYPE a gauge\na 0 1.1\na 0 1\n# EOF\n',
  '# TYPE a gauge\na 0 1\na 0 0\n# EOF\n',
  '# TYPE a gauge\na 0\na 0 0\n# EOF\n',
  '# TYPE a gauge\na 0 0\na 0\n# EOF\n',
  '# TYPE a counter\n# TYPE a counter\n# EOF\n',
  '# TYPE a info\n# TYPE a counter\n# EOF\n',
  '# TYPE a_created gauge\n# TYPE a counter\n# EOF\n',
];

describe('OpenMetrics text cases a parser must read', () => {
  for (const [name, text, expected] of VALID)
    test(name, () => {
      expect(samplesOf(read(text))).toEqual(expected as never);
    });
  for (const [name, text] of READ_ONLY)
    test(name, () => {
      expect(read(text).size).toBeGreaterThanOrEqual(0);
    });

  test('label and HELP escapes: \\\\, \\n and \\" undone, any other kept as written', () => {
    const label: Array<[string, string]> = [
      ['foo', 'foo'],
      ['\\foo', '\\foo'],
      ['\\\\foo', '\\foo'],
      ['foo\\\\', 'foo\\'],
      ['\\\\', '\\'],
      ['\\n', '\n'],
      ['\\\\n', '\\n'],
      ['\\\\\\n', '\\\n'],
      ['\\"', '"'],
      ['\\\\\\"', '\\"'],
    ];
    for (const [escaped, plain] of label) {
      const f = read(
        `# TYPE a counter\n# HELP a help\na_total{foo="${escaped}",bar="baz"} 1\n# EOF\n`,
      );
      expect(f.get('a')?.samples[0]?.labels).toEqual({ foo: plain, bar: 'baz' });
    }
    const help: Array<[string, string]> = [
      ['foo', 'foo'],
      ['\\foo', '\\foo'],
      ['\\\\foo', '\\foo'],
      ['foo\\', 'foo\\'],
      ['foo\\\\', 'foo\\'],
      ['\\n', '\n'],
      ['\\\\n', '\\n'],
      ['\\\\\\n', '\\\n'],
      ['\\"', '"'],
      ['\\\\"', '\\"'],
      ['\\\\\\"', '\\"'],
    ];
    for (const [escaped, plain] of help)
      expect(
        read(`# TYPE a counter\n# HELP a ${escaped}\na_total{foo="bar"} 1\n# EOF\n`).get('a')?.help,
      ).toBe(plain);
  });
});

describe('OpenMetrics text cases a parser must refuse (every test_invalid_input case)', () => {
  for (const text of INVALID)
    test(JSON.stringify(text), () => {
      const result = om(text);
      expect(result.ok ? 'read' : 'refused').toBe('refused');
    });
});
