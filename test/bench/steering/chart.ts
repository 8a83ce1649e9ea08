/** One policy's result for the chart. */
export interface ChartRow {
  readonly name: string;
  readonly p50: number;
  readonly p99: number;
}

/**
 * A grouped bar chart (p50 and p99 per policy, log scale, ms) as a standalone SVG document.
 * Hand-written because it is twenty lines; a charting dependency would outweigh it.
 */
export function latencyChart(rows: readonly ChartRow[], title: string): string {
  const width = 900;
  const height = 420;
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
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="black"/>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${width - 20}" y2="${top + plotH}" stroke="black"/>`,
  ];
  for (let decade = 10 ** Math.floor(Math.log10(min)); decade <= max * 1.5; decade *= 10) {
    if (decade < min) continue;
    parts.push(
      `<line x1="${left - 4}" y1="${y(decade)}" x2="${width - 20}" y2="${y(decade)}" stroke="#ddd"/>`,
    );
    parts.push(
      `<text x="${left - 8}" y="${y(decade) + 4}" text-anchor="end">${decade >= 1000 ? `${decade / 1000} s` : `${decade} ms`}</text>`,
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
      `<text x="${x}" y="${top + plotH + 18}" text-anchor="middle">${escapeXml(r.name)}</text>`,
    );
  });
  parts.push(
    `<rect x="${width - 180}" y="${top}" width="12" height="12" fill="#6baed6"/><text x="${width - 162}" y="${top + 10}">p50 latency (ms)</text>`,
  );
  parts.push(
    `<rect x="${width - 180}" y="${top + 18}" width="12" height="12" fill="#08519c"/><text x="${width - 162}" y="${top + 28}">p99 latency (ms)</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
