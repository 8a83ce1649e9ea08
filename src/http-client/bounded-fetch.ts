/** Why a bounded fetch failed, in words that name the URL and the limit. */
export class FetchError extends Error {
  override readonly name = 'FetchError';
}

/** Limits for {@linkcode fetchBounded}. */
export interface FetchLimits {
  /** The whole exchange, headers and body, ms. A server that drips its body slowly is cut off. */
  readonly timeoutMs: number;
  /** The body's size cap, bytes: reading stops (and the request is aborted) past it. */
  readonly maxBytes: number;
  /** Refuse a body that is not valid UTF-8 (default: bad bytes become U+FFFD). */
  readonly strictUtf8?: boolean;
}

const LOSSY = new TextDecoder();
const STRICT = new TextDecoder('utf-8', { fatal: true });

function decode(url: string, bytes: Uint8Array, strict: boolean | undefined): string {
  if (!strict) return LOSSY.decode(bytes);
  try {
    return STRICT.decode(bytes);
  } catch {
    throw new FetchError(`${url} answered a body that is not valid UTF-8`);
  }
}

/** What {@linkcode fetchBounded} read. */
export interface FetchedBody {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/**
 * Fetches a URL from a model server that may misbehave: the time-out covers the body, not just the
 * headers, and the body is read in chunks and abandoned as soon as it passes `maxBytes` (a 50 MB
 * answer never sits in memory whole). Rejects with a {@linkcode FetchError} naming the URL.
 */
export async function fetchBounded(
  url: string,
  limits: FetchLimits,
  init: { readonly method?: string; readonly body?: string } = {},
): Promise<FetchedBody> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  try {
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      ...(init.body !== undefined
        ? { body: init.body, headers: { 'content-type': 'application/json' } }
        : {}),
      signal: controller.signal,
    });
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > limits.maxBytes) {
      controller.abort();
      throw new FetchError(
        `${url} answered ${declared} bytes, more than the ${limits.maxBytes} cap`,
      );
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body?.getReader();
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limits.maxBytes) {
        controller.abort();
        throw new FetchError(`${url} answered more than the ${limits.maxBytes}-byte cap`);
      }
      chunks.push(value);
    }
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text: decode(url, concat(chunks, size), limits.strictUtf8),
    };
  } catch (error) {
    if (error instanceof FetchError) throw error;
    if (controller.signal.aborted)
      throw new FetchError(`${url} did not answer in full within ${limits.timeoutMs} ms`);
    throw new FetchError(`${url}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
