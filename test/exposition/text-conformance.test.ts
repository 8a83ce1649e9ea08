/**
 * prometheus/common's own test table for its text parser (expfmt/text_parse_test.go:
 * testTextParse, testTextParseError, TestTextParseMissingMetricName), run through our reader.
 * Inputs are the Go test's inputs as written (String.raw keeps every backslash); outputs are the
 * Go test's expected MetricFamilies in the shape `goView` folds ours into. Where we differ on
 * purpose the case says so and why (docs/metrics-reading.md lists the same).
 */
import { describe, expect, test } from 'bun:test';
import { parseExposition } from '../../src/exposition/index.ts';
import { type GoFamily, goView } from './go-view.ts';

const inf = Number.POSITIVE_INFINITY;

const HISTOGRAM_BUCKETS: Array<[number, number]> = [
  [100, 123],
  [120, 412],
  [144, 592],
  [172.8, 1524],
  [inf, 2693],
];
const histogram = (type: string, buckets: Array<[number, number]>, count: number): GoFamily => ({
  name: 'request_duration_microseconds',
  type,
  help: 'The response latency.',
  metrics: [{ labels: {}, count, sum: 1756047.3, buckets }],
});

/** testTextParse: each input and the families Go reads from it. */
const GOOD: Array<[number, string, GoFamily[]]> = [
  [0, '\n\n', []],
  [
    1,
    String.raw`
minimal_metric 1.234
another_metric -3e3 103948
# Even that:
no_labels{} 3
# HELP line for non-existing metric will be ignored.
`,
    [
      {
        name: 'another_metric',
        type: 'untyped',
        metrics: [{ labels: {}, value: -3e3, ts: 103948 }],
      },
      { name: 'minimal_metric', type: 'untyped', metrics: [{ labels: {}, value: 1.234 }] },
      { name: 'no_labels', type: 'untyped', metrics: [{ labels: {}, value: 3 }] },
    ],
  ],
  [
    2,
    String.raw`
# A normal comment.
#
# TYPE name counter
name{labelname="val1",basename="basevalue"} NaN
name {labelname="val2",basename="base\"v\\al\nue"} 0.23 1234567890
# HELP name two-line\n doc  str\\ing

 # HELP  name2  	doc str"ing 2
  #    TYPE    name2 gauge
name2{labelname="val2"	,basename   =   "basevalue2"		} +Inf 54321
name2{ labelname = "val1" , }-Inf
`,
    [
      {
        name: 'name',
        type: 'counter',
        help: 'two-line\n doc  str\\ing',
        metrics: [
          { labels: { labelname: 'val1', basename: 'basevalue' }, value: Number.NaN },
          {
            labels: { labelname: 'val2', basename: 'base"v\\al\nue' },
            value: 0.23,
            ts: 1234567890,
          },
        ],
      },
      {
        name: 'name2',
        type: 'gauge',
        help: 'doc str"ing 2',
        metrics: [
          { labels: { labelname: 'val2', basename: 'basevalue2' }, value: inf, ts: 54321 },
          { labels: { labelname: 'val1' }, value: -inf },
        ],
      },
    ],
  ],
  [
    3,
    String.raw`
# TYPE my_summary summary
my_summary{n1="val1",quantile="0.5"} 110
decoy -1 -2
my_summary{n1="val1",quantile="0.9"} 140 1
my_summary_count{n1="val1"} 42
# Latest timestamp wins in case of a summary.
my_summary_sum{n1="val1"} 4711 2
fake_sum{n1="val1"} 2001
# TYPE another_summary summary
another_summary_count{n2="val2",n1="val1"} 20
my_summary_count{n2="val2",n1="val1"} 5 5
another_summary{n1="val1",n2="val2",quantile=".3"} -1.2
my_summary_sum{n1="val2"} 08 15
my_summary{n1="val3", quantile="0.2"} 4711
  my_summary{n1="val1",n2="val2",quantile="-12.34",} NaN
# some
# funny comments
# HELP
# HELP
# HELP my_summary
# HELP my_summary
`,
    [
      {
        name: 'another_summary',
        type: 'summary',
        metrics: [{ labels: { n2: 'val2', n1: 'val1' }, count: 20, quantiles: [[0.3, -1.2]] }],
      },
      { name: 'decoy', type: 'untyped', metrics: [{ labels: {}, value: -1, ts: -2 }] },
      { name: 'fake_sum', type: 'untyped', metrics: [{ labels: { n1: 'val1' }, value: 2001 }] },
      {
        name: 'my_summary',
        type: 'summary',
        metrics: [
          {
            labels: { n1: 'val1' },
            count: 42,
            sum: 4711,
            quantiles: [
              [0.5, 110],
              [0.9, 140],
            ],
            ts: 2,
          },
          {
            labels: { n2: 'val2', n1: 'val1' },
            count: 5,
            quantiles: [[-12.34, Number.NaN]],
            ts: 5,
          },
          { labels: { n1: 'val2' }, sum: 8, ts: 15 },
          { labels: { n1: 'val3' }, quantiles: [[0.2, 4711]] },
        ],
      },
    ],
  ],
  [
    4,
    String.raw`
# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds histogram
request_duration_microseconds_bucket{le="100"} 123
request_duration_microseconds_bucket{le="120"} 412
request_duration_microseconds_bucket{le="144"} 592
request_duration_microseconds_bucket{le="172.8"} 1524
request_duration_microseconds_bucket{le="+Inf"} 2693
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693
`,
    [histogram('histogram', HISTOGRAM_BUCKETS, 2693)],
  ],
  [
    5,
    String.raw`
# HELP "my.noncompliant.metric" help text
# TYPE "my.noncompliant.metric" counter
{"my.noncompliant.metric","label.name"="value"} 1
`,
    [
      {
        name: 'my.noncompliant.metric',
        type: 'counter',
        help: 'help text',
        metrics: [{ labels: { 'label.name': 'value' }, value: 1 }],
      },
    ],
  ],
  [
    6,
    String.raw`
# HELP "name.with.dots" boring help
# TYPE "name.with.dots" counter
{"name.with.dots",labelname="val1",basename="basevalue"} 42.0
{"name.with.dots",labelname="val2",basename="basevalue"} 0.23 1234567890
`,
    [
      {
        name: 'name.with.dots',
        type: 'counter',
        help: 'boring help',
        metrics: [
          { labels: { labelname: 'val1', basename: 'basevalue' }, value: 42 },
          { labels: { labelname: 'val2', basename: 'basevalue' }, value: 0.23, ts: 1234567890 },
        ],
      },
    ],
  ],
  [
    7,
    '\n\t\t\t\t# HELP "name.with.dots" boring help\n\t\t\t\t# TYPE "name.with.dots" counter\n\t\t\t\t{"name.with.dots"} 42.0\n\t\t\t\t{"name.with.dots"} 0.23 1234567890\n\t\t\t\t',
    [
      {
        name: 'name.with.dots',
        type: 'counter',
        help: 'boring help',
        metrics: [
          { labels: {}, value: 42 },
          { labels: {}, value: 0.23, ts: 1234567890 },
        ],
      },
    ],
  ],
  [
    8,
    // Not String.raw: Bun's transpiler writes non-ASCII characters in a raw template as \u escapes.
    '# HELP "gauge.name" gauge\\ndoc\\nstr\\"ing\n# TYPE "gauge.name" gauge\n' +
      '{"gauge.name","name.1"="val with\\nnew line","name*2"="val with \\\\backslash and \\"quotes\\""} +Inf\n' +
      '{"gauge.name","name.1"="Björn","name*2"="佖佥"} 3.14e+42\n',
    [
      {
        name: 'gauge.name',
        type: 'gauge',
        help: 'gauge\ndoc\nstr"ing',
        metrics: [
          {
            labels: {
              'name.1': 'val with\nnew line',
              'name*2': 'val with \\backslash and "quotes"',
            },
            value: inf,
          },
          { labels: { 'name.1': 'Björn', 'name*2': '佖佥' }, value: 3.14e42 },
        ],
      },
    ],
  ],
  [
    9,
    String.raw`
# HELP "my\"noncompliant\nmetric\\" help text
# TYPE "my\"noncompliant\nmetric\\" counter
{"my\"noncompliant\nmetric\\","label\"name\n"="value"} 1
`,
    [
      {
        name: 'my"noncompliant\nmetric\\',
        type: 'counter',
        help: 'help text',
        metrics: [{ labels: { 'label"name\n': 'value' }, value: 1 }],
      },
    ],
  ],
  [
    10,
    String.raw`
# HELP "my.noncompliant.metric" help text
# TYPE "my.noncompliant.metric" counter
{labelname="value", "my.noncompliant.metric"} 1
`,
    [
      {
        name: 'my.noncompliant.metric',
        type: 'counter',
        help: 'help text',
        metrics: [{ labels: { labelname: 'value' }, value: 1 }],
      },
    ],
  ],
  [
    11,
    '\n{"name.1"} 1\n{"name.2"} 1\n{"name.3"} 1\n',
    ['name.1', 'name.2', 'name.3'].map((name) => ({
      name,
      type: 'untyped',
      metrics: [{ labels: {}, value: 1 }],
    })),
  ],
  [
    12,
    String.raw`
# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds histogram
request_duration_microseconds_bucket{le="100"} 123.5
request_duration_microseconds_bucket{le="120"} 412.6
request_duration_microseconds_bucket{le="144"} 592.7
request_duration_microseconds_bucket{le="172.8"} 1524.8
request_duration_microseconds_bucket{le="+Inf"} 2693.9
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693.9
`,
    [
      histogram(
        'histogram',
        [
          [100, 123.5],
          [120, 412.6],
          [144, 592.7],
          [172.8, 1524.8],
          [inf, 2693.9],
        ],
        2693.9,
      ),
    ],
  ],
  [
    13,
    String.raw`
# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds histogram
request_duration_microseconds_bucket{le="100"} 123
request_duration_microseconds_bucket{le="120"} 412
request_duration_microseconds_bucket{le="144"} 592
request_duration_microseconds_bucket{le="172.8"} 1524
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693.9
`,
    [histogram('histogram', HISTOGRAM_BUCKETS.slice(0, 4), 2693.9)],
  ],
  [
    14,
    String.raw`
# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds histogram
request_duration_microseconds_bucket{le="100"} 123
request_duration_microseconds_bucket{le="120"} 412
request_duration_microseconds_bucket{le="144"} 592
request_duration_microseconds_bucket{le="172.8"} 1524.8
request_duration_microseconds_bucket{le="+Inf"} 2693
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693
`,
    [
      histogram(
        'histogram',
        [
          [100, 123],
          [120, 412],
          [144, 592],
          [172.8, 1524.8],
          [inf, 2693],
        ],
        2693,
      ),
    ],
  ],
  ...(['gaugehistogram', 'gauge_histogram'] as const).map(
    (spelling, i): [number, string, GoFamily[]] => [
      15 + i,
      `
# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds ${spelling}
request_duration_microseconds_bucket{le="100"} 123
request_duration_microseconds_bucket{le="120"} 412
request_duration_microseconds_bucket{le="144"} 592
request_duration_microseconds_bucket{le="172.8"} 1524
request_duration_microseconds_bucket{le="+Inf"} 2693
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693
`,
      [histogram('gaugehistogram', HISTOGRAM_BUCKETS, 2693)],
    ],
  ),
  [
    17,
    String.raw`
# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds gauge_histogram
request_duration_microseconds_bucket{le="100"} 123
request_duration_microseconds_bucket{le="120"} 412
request_duration_microseconds_bucket{le="144"} 592
request_duration_microseconds_bucket{le="172.8"} 1524.8
request_duration_microseconds_bucket{le="+Inf"} 2693
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693
`,
    [
      histogram(
        'gaugehistogram',
        [
          [100, 123],
          [120, 412],
          [144, 592],
          [172.8, 1524.8],
          [inf, 2693],
        ],
        2693,
      ),
    ],
  ],
];

describe('prometheus/common testTextParse: read as the Go parser reads it', () => {
  for (const [i, input, expected] of GOOD)
    test(`case ${i}`, () => {
      const result = parseExposition(input);
      if (!result.ok)
        throw new Error(`refused: line ${result.error.line}: ${result.error.message}`);
      expect(goView(result.families)).toEqual(expected);
    });
});

const enc = (s: string) => new TextEncoder().encode(s);

/**
 * testTextParseError: each input, the line Go names and the start of its message (UTF-8
 * validation scheme). `ours` replaces Go's message where our sentence differs in words only.
 */
const BAD: Array<{ i: number; in: string | Uint8Array; line: number; go: string; ours?: string }> =
  [
    { i: 1, in: String.raw`metric{label="\t"} 3.14`, line: 1, go: 'invalid escape sequence' },
    {
      i: 2,
      in: '\nmetric{label="new\nline"} 3.14\n',
      line: 2,
      go: 'label value "new" contains unescaped new-line',
    },
    { i: 3, in: 'metric{@="bla"} 3.14', line: 1, go: 'invalid label name for metric' },
    { i: 4, in: 'metric{__name__="bla"} 3.14', line: 1, go: 'label name "__name__" is reserved' },
    { i: 5, in: 'metric{label+="bla"} 3.14', line: 1, go: "expected '=' after label name" },
    { i: 6, in: 'metric{label=bla} 3.14', line: 1, go: `expected '"' at start of label value` },
    {
      i: 7,
      in: '\n# TYPE metric summary\nmetric{quantile="bla"} 3.14\n',
      line: 3,
      go: "expected float as value for 'quantile' label",
    },
    { i: 8, in: 'metric{label="bla"+} 3.14', line: 1, go: 'unexpected end of label value' },
    { i: 9, in: 'metric{label="bla"} 3.14 2.72\n', line: 1, go: 'expected integer as timestamp' },
    { i: 10, in: 'metric{label="bla"} 3.14 2 3\n', line: 1, go: 'spurious string after timestamp' },
    { i: 11, in: 'metric{label="bla"} blubb\n', line: 1, go: 'expected float as value' },
    {
      i: 12,
      in: '\n# HELP metric one\n# HELP metric two\n',
      line: 3,
      go: 'second HELP line for metric name',
    },
    {
      i: 13,
      in: '\n# TYPE metric counter\n# TYPE metric untyped\n',
      line: 3,
      go: 'second TYPE line for metric name "metric", or TYPE reported after samples',
    },
    {
      i: 14,
      in: '\nmetric 4.12\n# TYPE metric counter\n',
      line: 3,
      go: 'second TYPE line for metric name "metric", or TYPE reported after samples',
    },
    { i: 15, in: '\n# TYPE metric bla\n', line: 2, go: 'unknown metric type' },
    { i: 16, in: '\n# TYPE met-ric\n', line: 2, go: 'invalid metric name in comment' },
    { i: 17, in: '@invalidmetric{label="bla"} 3.14 2', line: 1, go: 'invalid metric name' },
    { i: 18, in: '{label="bla"} 3.14 2', line: 1, go: 'invalid metric name' },
    {
      i: 19,
      in: '\n# TYPE metric histogram\nmetric_bucket{le="bla"} 3.14\n',
      line: 3,
      go: "expected float as value for 'le' label",
    },
    {
      i: 20,
      in: new Uint8Array([...enc('metric{l="'), 0xbd, ...enc('"} 3.14\n')]),
      line: 1,
      go: 'invalid label value "\\xbd"',
      ours: 'the body is not valid UTF-8',
    },
    ...[
      'foo 1_2\n',
      'foo 0x1p-3\n',
      'foo 0x1P-3\n',
      'foo 0B1\n',
      'foo 0O1\n',
      'foo 0X1\n',
      'foo 0x1\n',
      'foo 0b1\n',
      'foo 0o1\n',
      'foo 0x1\n',
      'foo 0x1\n',
    ].map((input, k) => ({ i: 21 + k, in: input, line: 1, go: 'expected float as value' })),
    {
      i: 32,
      in: '\n# TYPE metric histogram\nmetric_bucket{le="0x1p-3"} 3.14\n',
      line: 3,
      go: "expected float as value for 'le' label",
    },
    {
      i: 33,
      in: '\n# TYPE metric summary\nmetric{quantile="0x1p-3"} 3.14\n',
      line: 3,
      go: "expected float as value for 'quantile' label",
    },
    {
      i: 34,
      in: 'metric{label="bla",label="bla"} 3.14',
      line: 1,
      go: 'duplicate label names for metric',
    },
    { i: 35, in: '{"one.name","another.name"} 3.14', line: 1, go: 'multiple metric names' },
    { i: 36, in: String.raw`{"a\xc5z",label="bla"} 3.14`, line: 1, go: 'invalid escape sequence' },
    { i: 37, in: '{"metric.name".label="bla"} 3.14', line: 1, go: 'unexpected end of metric name' },
    {
      i: 38,
      in: String.raw`
# TYPE "metric.name\t" counter
{"metric.name\t",label="bla"} 3.14
`,
      line: 2,
      go: 'invalid escape sequence',
    },
    {
      i: 39,
      in: '\n# TYPE "metric\nname" counter\n{"metric\nname",label="bla"} 3.14\n',
      line: 2,
      go: 'metric name "metric" contains unescaped new-line',
    },
    {
      i: 40,
      in: '\n{"metric.name","new\nline"="bla"} 3.14\n',
      line: 2,
      go: 'label name "new" contains unescaped new-line',
    },
    ...[
      [
        43,
        'request_duration_microseconds_count -2693',
        10,
        'negative count for histogram "request_duration_microseconds"',
      ],
      [
        44,
        'request_duration_microseconds_bucket{le="120"} -412',
        5,
        'negative bucket population for histogram "request_duration_microseconds"',
      ],
      [
        45,
        'request_duration_microseconds_count -2693.123',
        10,
        'negative count for histogram "request_duration_microseconds"',
      ],
      [
        46,
        'request_duration_microseconds_bucket{le="120"} -412.456',
        5,
        'negative bucket population for histogram "request_duration_microseconds"',
      ],
    ].map(([i, bad, line, go]) => ({
      i: i as number,
      in: `
# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds histogram
request_duration_microseconds_bucket{le="100"} 123
request_duration_microseconds_bucket{le="120"} 412
request_duration_microseconds_bucket{le="144"} 592
request_duration_microseconds_bucket{le="172.8"} 1524
request_duration_microseconds_bucket{le="+Inf"} 2693
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693
`.replace(
        (bad as string).startsWith('request_duration_microseconds_count')
          ? 'request_duration_microseconds_count 2693'
          : 'request_duration_microseconds_bucket{le="120"} 412',
        bad as string,
      ),
      line: line as number,
      go: go as string,
    })),
    { i: 47, in: '{} 3.14', line: 1, go: 'invalid metric name' },
  ];

describe('prometheus/common testTextParseError: refused where the Go parser refuses, on the same line', () => {
  for (const c of BAD)
    test(`case ${c.i}: ${c.ours ?? c.go}`, () => {
      const result = parseExposition(c.in);
      if (result.ok)
        throw new Error(`read, not refused: ${JSON.stringify(goView(result.families))}`);
      expect(result.error.line).toBe(c.line);
      expect(result.error.message.startsWith(c.ours ?? c.go)).toBe(true);
    });

  test('cases 41 and 42 (UTF-8 names, refused only under the legacy scheme) are read', () => {
    const a = parseExposition('{"metric.name",foo="bla"} 3.14\n');
    const b = parseExposition('metric_name{"foo"="bar", "dotted.label"="bla"} 3.14\n');
    expect(a.ok && a.families.get('metric.name')?.samples[0]?.labels).toEqual({ foo: 'bla' });
    expect(b.ok && b.families.get('metric_name')?.samples[0]?.labels).toEqual({
      foo: 'bar',
      'dotted.label': 'bla',
    });
  });

  test('case 0 (no newline after the last line) is read, a documented divergence', () => {
    // Go refuses "unexpected end of input stream" at line 3. We read it: the HTTP layer already
    // tells a body cut short (length or chunked framing), and Prometheus's own scraper reads it.
    const result = parseExposition('\nbla 3.14\nblubber 42');
    expect(result.ok && result.families.get('blubber')?.samples[0]?.value).toBe(42);
  });
});

describe('prometheus/common TestTextParseMissingMetricName', () => {
  const prefixes = [
    '',
    '#TYPE A000000 summArY\n',
    '# TYPE metric histogram\n',
    '# HELP metric Help text.\n',
    'metric 1\n',
    '{"metric"} 1\n',
  ];
  const samples = ['{}', '{} 2\n', '{label="value"} 2\n', '{label="value",} 2\n'];
  for (const prefix of prefixes)
    for (const sample of samples)
      test(JSON.stringify(prefix + sample), () => {
        const result = parseExposition(prefix + sample);
        expect(result.ok ? 'read' : result.error).toEqual({
          line: prefix.split('\n').length,
          message: 'invalid metric name',
        });
        // The reader keeps no state between bodies.
        expect(parseExposition('valid 1\n').ok).toBe(true);
      });
});
