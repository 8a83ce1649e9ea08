import * as grpc from '@grpc/grpc-js';
import type { DescriptorIndex } from './descriptor-index.ts';

interface ReflectionRequest {
  host?: string;
  message_request?: string;
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type: string; extension_number: number } | null;
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

/**
 * gRPC server reflection (served as both grpc.reflection.v1 and v1alpha) over the embedded
 * descriptors, so `buf curl`, grpcurl and similar tools can list and call every service.
 * Written here rather than taken from @grpc/reflection, which reads its own .proto from disk
 * at run time and so fails inside a compiled binary. The index is built on the first request,
 * not at start-up (it decodes every descriptor: ≈ 20 ms in the binary).
 */
export function reflectionService(
  createIndex: () => DescriptorIndex,
): grpc.UntypedServiceImplementation {
  let index: DescriptorIndex | null = null;
  return {
    ServerReflectionInfo(call: grpc.ServerDuplexStream<ReflectionRequest, unknown>) {
      call.on('data', (request: ReflectionRequest) => {
        index ??= createIndex();
        call.write({
          valid_host: request.host ?? '',
          original_request: request,
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
      ? { file_descriptor_response: { file_descriptor_proto: found } }
      : notFound(`${what} not found`);
  };
  switch (request.message_request) {
    case 'file_by_filename':
      return files(request.file_by_filename, `file "${request.file_by_filename}"`);
    case 'file_containing_symbol':
      return files(
        index.fileOfSymbol(request.file_containing_symbol ?? ''),
        `symbol "${request.file_containing_symbol}"`,
      );
    case 'list_services':
      return { list_services_response: { service: index.services.map((name) => ({ name })) } };
    case 'all_extension_numbers_of_type': {
      const type = request.all_extension_numbers_of_type ?? '';
      // No filament proto declares extensions: a known type has none, an unknown one is not found.
      return index.fileOfSymbol(type) === undefined
        ? notFound(`type "${type}" not found`)
        : { all_extension_numbers_response: { base_type_name: type, extension_number: [] } };
    }
    case 'file_containing_extension':
      return notFound('no extensions are declared');
    default:
      return {
        error_response: {
          error_code: grpc.status.INVALID_ARGUMENT,
          error_message: 'empty reflection request',
        },
      };
  }
}

function notFound(message: string): Record<string, unknown> {
  return { error_response: { error_code: grpc.status.NOT_FOUND, error_message: message } };
}
