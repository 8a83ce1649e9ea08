/** The encodings filament accepts for documents on the wire. */
export type Encoding = 'json' | 'msgpack';

const CONTENT_TYPES: Record<string, Encoding> = {
  'application/json': 'json',
  // A signed rule set (see src/trust): a JSON envelope around the set's bytes.
  'application/vnd.dsse.envelope.v1+json': 'json',
  'application/msgpack': 'msgpack',
  'application/x-msgpack': 'msgpack',
  'application/vnd.msgpack': 'msgpack',
};

/**
 * Picks the encoding of a document: from the MQTT 5 content type when one is given (parameters
 * such as `; charset=utf-8` are ignored), else by sniffing: JSON documents start with `{` or `[`
 * (after optional whitespace or a UTF-8 BOM); MessagePack maps and arrays start with 0x80–0x9f
 * or 0xdc–0xdf. Returns an error sentence when neither fits.
 */
export function detectEncoding(
  bytes: Uint8Array,
  contentType?: string,
): Encoding | { error: string } {
  if (contentType !== undefined && contentType !== '') {
    const base = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
    return (
      CONTENT_TYPES[base] ?? { error: `content type "${contentType}" is not JSON or MessagePack` }
    );
  }
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)
  )
    i++;
  const first = bytes[i];
  if (first === undefined) return { error: 'message is empty' };
  if (first === 0x7b || first === 0x5b) return 'json';
  if ((first >= 0x80 && first <= 0x9f) || (first >= 0xdc && first <= 0xdf)) return 'msgpack';
  const hex = first.toString(16).padStart(2, '0');
  return {
    error: `cannot tell the encoding: first byte 0x${hex} starts neither a JSON nor a MessagePack map or array`,
  };
}

/** The MQTT 5 content type filament uses for an encoding. */
export function contentTypeOf(encoding: Encoding): string {
  return encoding === 'json' ? 'application/json' : 'application/msgpack';
}
