import descriptor from 'protobufjs/ext/descriptor/index.js';
import { descriptorSetBytes } from './load-definitions.ts';

interface FileEntry {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly dependencies: readonly string[];
}

interface DecodedFile {
  name: string;
  package?: string;
  dependency?: string[];
  messageType?: Array<{
    name: string;
    nestedType?: DecodedMessage[];
    enumType?: Array<{ name: string }>;
  }>;
  enumType?: Array<{ name: string }>;
  service?: Array<{ name: string; method?: Array<{ name: string }> }>;
}

interface DecodedMessage {
  name: string;
  nestedType?: DecodedMessage[];
  enumType?: Array<{ name: string }>;
}

/**
 * The embedded FileDescriptorSet indexed for server reflection: each file's exact bytes, by file
 * name and by every symbol it declares (packages, messages, nested types, enums, services,
 * methods), plus the services to list.
 */
export class DescriptorIndex {
  private readonly files = new Map<string, FileEntry>();
  private readonly bySymbol = new Map<string, string>();
  readonly services: readonly string[];

  /**
   * @param set the FileDescriptorSet (default: the embedded one)
   * @param listed which services to list (default: all); a port serving only some lists only those
   */
  constructor(
    set: Uint8Array = descriptorSetBytes(),
    listed: (service: string) => boolean = () => true,
  ) {
    const services: string[] = [];
    for (const bytes of splitRepeatedField(set, 1)) {
      const file = descriptor.FileDescriptorProto.toObject(
        descriptor.FileDescriptorProto.decode(bytes),
        { arrays: true },
      ) as DecodedFile;
      this.files.set(file.name, { name: file.name, bytes, dependencies: file.dependency ?? [] });
      const prefix = file.package ? `${file.package}.` : '';
      const add = (symbol: string) => this.bySymbol.set(symbol, file.name);
      const addMessage = (m: DecodedMessage, scope: string) => {
        const full = `${scope}${m.name}`;
        add(full);
        for (const e of m.enumType ?? []) add(`${full}.${e.name}`);
        for (const nested of m.nestedType ?? []) addMessage(nested, `${full}.`);
      };
      for (const m of file.messageType ?? []) addMessage(m, prefix);
      for (const e of file.enumType ?? []) add(`${prefix}${e.name}`);
      for (const s of file.service ?? []) {
        add(`${prefix}${s.name}`);
        services.push(`${prefix}${s.name}`);
        for (const method of s.method ?? []) add(`${prefix}${s.name}.${method.name}`);
      }
    }
    this.services = services.filter(listed).sort();
  }

  /** The file named `name` and, after it, every file it depends on (transitively), as bytes. */
  fileWithDependencies(name: string): Uint8Array[] | undefined {
    if (!this.files.has(name)) return undefined;
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (file: string) => {
      const entry = this.files.get(file);
      if (!entry || seen.has(file)) return;
      seen.add(file);
      out.push(entry.bytes);
      for (const dep of entry.dependencies) visit(dep);
    };
    visit(name);
    return out;
  }

  /** The file that declares `symbol` (a fully-qualified name, with or without a leading dot). */
  fileOfSymbol(symbol: string): string | undefined {
    return this.bySymbol.get(symbol.startsWith('.') ? symbol.slice(1) : symbol);
  }
}

/** The raw bytes of every occurrence of length-delimited field `field` at the top of a message. */
function splitRepeatedField(message: Uint8Array, field: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  const varint = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = message[pos++] as number;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  };
  while (pos < message.length) {
    const tag = varint();
    if ((tag & 7) !== 2) throw new Error(`unexpected wire type ${tag & 7} in a FileDescriptorSet`);
    const length = varint();
    if (tag >>> 3 === field) out.push(message.subarray(pos, pos + length));
    pos += length;
  }
  return out;
}
