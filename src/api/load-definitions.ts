import { Buffer } from 'node:buffer';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DESCRIPTOR_SET_BASE64 } from './proto/descriptor-set.generated.ts';

/**
 * How messages look in JavaScript on both sides of our services (server and our clients): field
 * names exactly as in the .proto (snake_case; descriptors loaded from a FileDescriptorSet keep
 * them whatever `keepCase` says), 64-bit integers as numbers, enums as their names.
 */
export const LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** The embedded FileDescriptorSet as bytes. */
export function descriptorSetBytes(): Buffer {
  return Buffer.from(DESCRIPTOR_SET_BASE64, 'base64');
}

let cached: {
  packageDefinition: protoLoader.PackageDefinition;
  grpcObject: grpc.GrpcObject;
} | null = null;

/** The package definition and grpc-js object of every embedded proto, built once. */
export function apiDefinitions(): {
  packageDefinition: protoLoader.PackageDefinition;
  grpcObject: grpc.GrpcObject;
} {
  if (cached === null) {
    const packageDefinition = protoLoader.loadFileDescriptorSetFromBuffer(
      descriptorSetBytes(),
      LOADER_OPTIONS,
    );
    cached = { packageDefinition, grpcObject: grpc.loadPackageDefinition(packageDefinition) };
  }
  return cached;
}

/** The service definition registered under a fully-qualified name such as `filament.v1.Sidecar`. */
export function serviceDefinition(name: string): grpc.ServiceDefinition {
  const definition = apiDefinitions().packageDefinition[name];
  // Message and enum definitions carry a `format`; service definitions do not.
  if (definition === undefined || 'format' in definition)
    throw new Error(`no service ${name} in the embedded protos`);
  return definition as unknown as grpc.ServiceDefinition;
}

/** A client constructor for a service, e.g. `clientConstructor('filament.v1.Sidecar')`. */
export function clientConstructor(name: string): grpc.ServiceClientConstructor {
  let node: unknown = apiDefinitions().grpcObject;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function') throw new Error(`no service ${name} in the embedded protos`);
  return node as grpc.ServiceClientConstructor;
}

/** Serialises a message of the fully-qualified type `name` (e.g. `google.rpc.Status`). */
export function encodeMessage(name: string, value: object): Buffer {
  const definition = apiDefinitions().packageDefinition[name] as
    | protoLoader.MessageTypeDefinition<object, object>
    | undefined;
  if (definition === undefined || !('serialize' in definition))
    throw new Error(`no message ${name} in the embedded protos`);
  return definition.serialize(value);
}

/** Parses a message of the fully-qualified type `name`. */
export function decodeMessage<T>(name: string, bytes: Uint8Array): T {
  const definition = apiDefinitions().packageDefinition[name] as
    | protoLoader.MessageTypeDefinition<object, object>
    | undefined;
  if (definition === undefined || !('deserialize' in definition))
    throw new Error(`no message ${name} in the embedded protos`);
  return definition.deserialize(Buffer.from(bytes)) as T;
}
