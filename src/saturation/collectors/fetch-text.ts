import type { ExpositionFormat } from '../../exposition/index.ts';
import { formatOfContentType } from '../../exposition/index.ts';
import { fetchBounded } from '../../http-client/index.ts';

/**
 * Fetches a metrics body from `url`: its status, text (refused unless valid UTF-8, as the
 * exposition formats are) and the format its Content-Type names. Rejects after `timeoutMs` or
 * past `maxBytes`.
 */
export async function fetchText(
  url: string,
  timeoutMs: number,
  maxBytes = 16 * 1024 * 1024,
): Promise<{ status: number; text: string; format: ExpositionFormat }> {
  const { status, text, contentType } = await fetchBounded(url, {
    timeoutMs,
    maxBytes,
    strictUtf8: true,
  });
  return { status, text, format: formatOfContentType(contentType) };
}
