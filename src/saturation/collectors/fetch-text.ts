/** Fetches `url` and returns the body; rejects on a non-2xx status or after `timeoutMs`. */
export async function fetchText(
  url: string,
  timeoutMs: number,
  maxBytes = 16 * 1024 * 1024,
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  if (text.length > maxBytes) throw new Error(`${url} returned more than ${maxBytes} bytes`);
  return { status: response.status, text };
}
