import { fetchBounded } from '../../http-client/index.ts';

/** Fetches `url` and returns the body; rejects after `timeoutMs` or past `maxBytes`. */
export async function fetchText(
  url: string,
  timeoutMs: number,
  maxBytes = 16 * 1024 * 1024,
): Promise<{ status: number; text: string }> {
  const { status, text } = await fetchBounded(url, { timeoutMs, maxBytes });
  return { status, text };
}
