import * as grpc from '@grpc/grpc-js';
import type { DescriptorIndex } from './descriptor-index.ts';

interface ReflectionRequest {
  host?: string;
  messageRequest?: string;
  fileByFilename?: string;
  fileContainingSymbol?: string;
  fileContainingExtension?: { containingType: string; extensionNumber: number } | null;
  allExtensionNumbersOfType?: string;
  listServices?: string;
}

/**
 * gRPC server reflection (served as both grpc.reflection.v1 and v1alpha) over the embedded
 * descriptors, so `buf curl`, grpcurl and similar tools can list and call every service.
 * Written here rather than taken from @grpc/reflection, which reads its own .proto from disk
 * at run time and so fails inside a compiled binary.
 */
export function reflectionService(index: DescriptorIndex): grpc.UntypedServiceImplementation {
  return {
    ServerReflectionInfo(call: grpc.ServerDuplexStream<ReflectionRequest, unknown>) {
      call.on('data', (request: ReflectionRequest) => {
        call.write({
          validHost: request.host ?? '',
          originalRequest: request,
          ...answer(index, request),
        });
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
  };
}

function answer(index: DescriptorIndex, request: ReflectionRequest): Record<string, unknown> {
  const files = (name: string | undefined, what: string) => {
    const found = name === undefined ? undefined : index.fileWithDependencies(name);
    return found
      ? { fileDescriptorResponse: { fileDescriptorProto: found } }
      : notFound(`${what} not found`);
  };
  switch (request.messageRequest) {
    case 'fileByFilename':
      return files(request.fileByFilename, `file "${request.fileByFilename}"`);
    case 'fileContainingSymbol':
      return files(
        index.fileOfSymbol(request.fileContainingSymbol ?? ''),
        `symbol "${request.fileContainingSymbol}"`,
      );
    case 'listServices':
      return { listServicesResponse: { service: index.services.map((name) => ({ name })) } };
    case 'allExtensionNumbersOfType': {
      const type = request.allExtensionNumbersOfType ?? '';
      // No filament proto declares extensions: a known type has none, an unknown one is not found.
      return index.fileOfSymbol(type) === undefined
        ? notFound(`type "${type}" not found`)
        : { allExtensionNumbersResponse: { baseTypeName: type, extensionNumber: [] } };
    }
    case 'fileContainingExtension':
      return notFound('no extensions are declared');
    default:
      return {
        errorResponse: {
          errorCode: grpc.status.INVALID_ARGUMENT,
          errorMessage: 'empty reflection request',
        },
      };
  }
}

function notFound(message: string): Record<string, unknown> {
  return { errorResponse: { errorCode: grpc.status.NOT_FOUND, errorMessage: message } };
}
