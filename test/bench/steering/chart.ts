/** One policy's result for the chart. */
export interface ChartRow {
  readonly name: string;
  readonly p50: number;
  readonly p99: number;
  /** A second label line under the name (e.g. failed requests). */
  readonly note?: string;
}

/**
 * A grouped bar chart (p50 and p99 per policy, log scale, ms) as a standalone SVG document.
 * Hand-written because it is twenty lines; a charting dependency would outweigh it.
 */
export function latencyChart(rows: readonly ChartRow[], title: string): string {
  return latencyPanels([{ rows, title }]);
}

/** Several {@linkcode latencyChart} panels, one under the other, in one SVG document. */
export function latencyPanels(
  panels: ReadonlyArray<{ readonly rows: readonly ChartRow[]; readonly title: string }>,
): string {
  const width = 1100;
  const height = 420;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height * panels.length}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  panels.forEach((p, k) => {
    parts.push(
      `<g transform="translate(0 ${k * height})">`,
      ...panel(p.rows, p.title, width, height),
      '</g>',
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function panel(rows: readonly ChartRow[], title: string, width: number, height: number): string[] {
  const left = 70;
  const bottom = 90;
  const top = 50;
  const plotH = height - top - bottom;
  const max = Math.max(...rows.map((r) => r.p99));
  const min = Math.max(1, Math.min(...rows.map((r) => r.p50)) / 2);
  const y = (v: number) =>
    top +
    plotH -
    ((Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max * 1.5) - Math.log10(min))) *
      plotH;
  const group = (width - left - 20) / rows.length;
  const bar = Math.min(36, group / 3);
  const parts: string[] = [
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="black"/>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${width - 20}" y2="${top + plotH}" stroke="black"/>`,
  ];
  // Gridlines at 1, 2 and 5 of each decade when the range is narrow, at each decade otherwise.
  const steps = Math.log10(max * 1.5) - Math.log10(min) < 2 ? [1, 2, 5] : [1];
  for (let decade = 10 ** Math.floor(Math.log10(min)); decade <= max * 1.5; decade *= 10)
    for (const step of steps) {
      const tick = decade * step;
      if (tick < min || tick > max * 1.5) continue;
      parts.push(
        `<line x1="${left - 4}" y1="${y(tick)}" x2="${width - 20}" y2="${y(tick)}" stroke="#ddd"/>`,
      );
      parts.push(
        `<text x="${left - 8}" y="${y(tick) + 4}" text-anchor="end">${tick >= 1000 ? `${tick / 1000} s` : `${tick} ms`}</text>`,
      );
    }
  rows.forEach((r, k) => {
    const x = left + k * group + group / 2;
    for (const [value, dx, color] of [
      [r.p50, -bar, '#6baed6'],
      [r.p99, 0, '#08519c'],
    ] as const) {
      parts.push(
        `<rect x="${x + dx}" y="${y(value)}" width="${bar - 2}" height="${top + plotH - y(value)}" fill="${color}"/>`,
      );
      parts.push(
        `<text x="${x + dx + bar / 2 - 1}" y="${y(value) - 4}" text-anchor="middle" font-size="10">${Math.round(value)}</text>`,
      );
    }
    parts.push(
      `<text x="${x}" y="${top + plotH + 18}" text-anchor="middle" font-size="11">${escapeXml(r.name)}</text>`,
    );
    if (r.note)
      parts.push(
        `<text x="${x}" y="${top + plotH + 33}" text-anchor="middle" font-size="11" fill="#b2182b">${escapeXml(r.note)}</text>`,
      );
  });
  parts.push(
    `<rect x="${left + 10}" y="${top - 20}" width="12" height="12" fill="#6baed6"/><text x="${left + 28}" y="${top - 10}">p50 latency (ms)</text>`,
  );
  parts.push(
    `<rect x="${left + 150}" y="${top - 20}" width="12" height="12" fill="#08519c"/><text x="${left + 168}" y="${top - 10}">p99 latency (ms)</text>`,
  );
  return parts;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
