import { Buffer } from 'node:buffer';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { DESCRIPTOR_SET_BASE64, PROTO_ROOT_JSON } from './proto/descriptor-set.generated.ts';

/**
 * How messages look in JavaScript on both sides of our services (server and our clients): field
 * names exactly as in the .proto (snake_case), 64-bit integers as numbers, enums as their names,
 * unset fields as their defaults, and the name of the set member of each oneof.
 */
export const MESSAGE_OPTIONS: protobuf.IConversionOptions = Object.freeze({
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

let setBytes: Buffer | null = null;

/** The embedded FileDescriptorSet as bytes (decoded once; do not modify). */
export function descriptorSetBytes(): Buffer {
  setBytes ??= Buffer.from(DESCRIPTOR_SET_BASE64, 'base64');
  return setBytes;
}

let root: protobuf.Root | null = null;

/** Every embedded proto as one protobufjs root (built on first use from its JSON form). */
function protoRoot(): protobuf.Root {
  root ??= protobuf.Root.fromJSON(PROTO_ROOT_JSON as protobuf.INamespace);
  return root;
}

/** grpc-js (de)serialisers of one message type, in the shape of {@linkcode MESSAGE_OPTIONS}. */
interface MessageCodec {
  serialize(value: object): Buffer;
  deserialize(bytes: Buffer): object;
}

const codecs = new Map<protobuf.Type, MessageCodec>();

function codecOf(type: protobuf.Type): MessageCodec {
  let codec = codecs.get(type);
  if (codec === undefined) {
    codec = {
      serialize: (value) => {
        const bytes = type.encode(type.fromObject(value)).finish();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      },
      deserialize: (bytes) => type.toObject(type.decode(bytes), MESSAGE_OPTIONS),
    };
    codecs.set(type, codec);
  }
  return codec;
}

function messageType(name: string): protobuf.Type {
  const type = protoRoot().lookup(name);
  if (!(type instanceof protobuf.Type))
    throw new Error(`no message ${name} in the embedded protos`);
  return type;
}

const services = new Map<string, grpc.ServiceDefinition>();

/**
 * The grpc-js service definition of a fully-qualified service such as `filament.v1.Sidecar`:
 * one entry per method (path, streaming, and the message codecs), with the lower-camel alias
 * grpc-js clients also get. Built here from the protobufjs root rather than by
 * `@grpc/proto-loader`, which derives a descriptor of every message first (≈ 12 ms at start-up
 * that only reflection libraries use; reflection here serves the embedded set's bytes).
 */
export function serviceDefinition(name: string): grpc.ServiceDefinition {
  let definition = services.get(name);
  if (definition !== undefined) return definition;
  const service = protoRoot().lookup(name);
  if (!(service instanceof protobuf.Service))
    throw new Error(`no service ${name} in the embedded protos`);
  service.resolveAll();
  const methods: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    const request = codecOf(method.resolvedRequestType as protobuf.Type);
    const response = codecOf(method.resolvedResponseType as protobuf.Type);
    methods[method.name] = {
      path: `/${name}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: request.serialize,
      requestDeserialize: request.deserialize,
      responseSerialize: response.serialize,
      responseDeserialize: response.deserialize,
      originalName: `${method.name.charAt(0).toLowerCase()}${method.name.slice(1)}`,
    };
  }
  definition = methods as grpc.ServiceDefinition;
  services.set(name, definition);
  return definition;
}

const clients = new Map<string, grpc.ServiceClientConstructor>();

/** A client constructor for a service, e.g. `clientConstructor('filament.v1.Sidecar')`. */
export function clientConstructor(name: string): grpc.ServiceClientConstructor {
  let client = clients.get(name);
  if (client === undefined) {
    client = grpc.makeGenericClientConstructor(serviceDefinition(name), name);
    clients.set(name, client);
  }
  return client;
}

/** Serialises a message of the fully-qualified type `name` (e.g. `google.rpc.Status`). */
export function encodeMessage(name: string, value: object): Buffer {
  return codecOf(messageType(name)).serialize(value);
}

/** Parses a message of the fully-qualified type `name`. */
export function decodeMessage<T>(name: string, bytes: Uint8Array): T {
  return codecOf(messageType(name)).deserialize(Buffer.from(bytes)) as T;
}
