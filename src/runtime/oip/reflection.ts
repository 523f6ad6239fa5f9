/**
 * gRPC server reflection (v1 and v1alpha, same messages) over a raw HTTP/2 stream, so grpcurl and
 * Postman can call the inference service without its proto file. Only the inference service is
 * described; every other symbol answers NOT_FOUND in the reflection error response.
 */
import type http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { GrpcCode } from './errors.ts';
import { encodeGrpcMessage, FrameReader, frameMessage } from './grpc-wire.ts';

export const REFLECTION_PATHS = new Set([
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
]);

const SERVICE = 'inference.GRPCInferenceService';
const protoDir = fileURLToPath(new URL('../../../proto/', import.meta.url));
let descriptors: Buffer[] | undefined;

/** The inference service's file descriptors, built on the first reflection request. */
function inferenceDescriptors(): Buffer[] {
  if (!descriptors) {
    const definition = protoLoader.loadSync('inference.proto', { includeDirs: [protoDir], keepCase: true });
    const entry = definition['inference.ModelInferRequest'] as { fileDescriptorProtos: Buffer[] };
    descriptors = entry.fileDescriptorProtos.map(asProtocWrites);
  }
  return descriptors;
}

// The reflection messages, by their published field numbers.
const root = protobuf.Root.fromJSON({
  nested: {
    reflection: {
      nested: {
        Request: {
          oneofs: {
            request: {
              oneof: [
                'fileByFilename',
                'fileContainingSymbol',
                'fileContainingExtension',
                'allExtensionNumbersOfType',
                'listServices',
              ],
            },
          },
          fields: {
            host: { type: 'string', id: 1 },
            fileByFilename: { type: 'string', id: 3 },
            fileContainingSymbol: { type: 'string', id: 4 },
            fileContainingExtension: { type: 'ExtensionRequest', id: 5 },
            allExtensionNumbersOfType: { type: 'string', id: 6 },
            listServices: { type: 'string', id: 7 },
          },
        },
        ExtensionRequest: {
          fields: { containingType: { type: 'string', id: 1 }, extensionNumber: { type: 'int32', id: 2 } },
        },
        Response: {
          fields: {
            validHost: { type: 'string', id: 1 },
            originalRequest: { type: 'Request', id: 2 },
            fileDescriptorResponse: { type: 'FileDescriptorResponse', id: 4 },
            allExtensionNumbersResponse: { type: 'ExtensionNumberResponse', id: 5 },
            listServicesResponse: { type: 'ListServiceResponse', id: 6 },
            errorResponse: { type: 'ErrorResponse', id: 7 },
          },
        },
        FileDescriptorResponse: {
          fields: { fileDescriptorProto: { rule: 'repeated', type: 'bytes', id: 1 } },
        },
        ExtensionNumberResponse: {
          fields: {
            baseTypeName: { type: 'string', id: 1 },
            extensionNumber: { rule: 'repeated', type: 'int32', id: 2 },
          },
        },
        ListServiceResponse: { fields: { service: { rule: 'repeated', type: 'ServiceResponse', id: 1 } } },
        ServiceResponse: { fields: { name: { type: 'string', id: 1 } } },
        ErrorResponse: {
          fields: { errorCode: { type: 'int32', id: 1 }, errorMessage: { type: 'string', id: 2 } },
        },
      },
    },
  },
});
const Request = root.lookupType('reflection.Request');
const Response = root.lookupType('reflection.Response');

interface DescriptorMessage {
  name: string;
  field?: { name: string; typeName?: string; jsonName?: string }[];
  nestedType?: DescriptorMessage[];
  options?: { mapEntry?: boolean } | null;
}

function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function upperFirst(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * The descriptor as protoc writes it, with JSON names (so grpcurl prints `modelName`, as for
 * MLServer) and map entry types named as protoc names them (`ParametersEntry` for field
 * `parameters`): Go's protobuf runtime, and so grpcurl, refuses protobufjs's own naming.
 */
function asProtocWrites(bytes: Buffer): Buffer {
  const FileDescriptorProto = descriptor.FileDescriptorProto;
  const file = FileDescriptorProto.decode(bytes) as unknown as {
    package: string;
    messageType: DescriptorMessage[];
  };
  const fix = (message: DescriptorMessage, scope: string) => {
    const path = `${scope}.${message.name}`;
    for (const nested of message.nestedType ?? []) {
      if (nested.options?.mapEntry) {
        const field = message.field?.find((f) => f.typeName === nested.name);
        if (!field) continue;
        nested.name = `${upperFirst(camelCase(field.name))}Entry`;
        field.typeName = `${path}.${nested.name}`;
      } else fix(nested, path);
    }
    for (const field of message.field ?? []) field.jsonName = camelCase(field.name);
  };
  for (const message of file.messageType) fix(message, `.${file.package}`);
  return Buffer.from(FileDescriptorProto.encode(file as unknown as protobuf.Message).finish());
}

interface ReflectionRequest {
  host?: string;
  fileByFilename?: string;
  fileContainingSymbol?: string;
  fileContainingExtension?: { containingType?: string };
  allExtensionNumbersOfType?: string;
  listServices?: string;
}

/** The answer to one reflection request. */
export function reflect(req: ReflectionRequest): Record<string, unknown> {
  const base = { validHost: req.host ?? '', originalRequest: req };
  if (req.listServices !== undefined)
    return { ...base, listServicesResponse: { service: [{ name: SERVICE }] } };
  const symbol = req.fileContainingSymbol;
  if (req.fileByFilename === 'inference.proto' || symbol?.startsWith('inference.')) {
    return { ...base, fileDescriptorResponse: { fileDescriptorProto: inferenceDescriptors() } };
  }
  if (req.allExtensionNumbersOfType?.startsWith('inference.')) {
    return { ...base, allExtensionNumbersResponse: { baseTypeName: req.allExtensionNumbersOfType } };
  }
  const what = symbol ?? req.fileByFilename ?? req.fileContainingExtension?.containingType ?? 'that request';
  return {
    ...base,
    errorResponse: { errorCode: GrpcCode.NOT_FOUND, errorMessage: `${what} is not known to this server` },
  };
}

/** Serves one ServerReflectionInfo call: a response per request, until the client ends the stream. */
export function serveReflection(stream: http2.ServerHttp2Stream): void {
  const reader = new FrameReader(1024 * 1024);
  let headersSent = false;
  const finish = (code: number, message = '') => {
    if (stream.destroyed || stream.closed) return;
    const trailers = { 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) };
    if (!headersSent)
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', ...trailers },
        { endStream: true },
      );
    else {
      stream.once('wantTrailers', () => stream.sendTrailers(trailers));
      stream.end();
    }
  };
  stream.on('data', (chunk: Buffer) => {
    try {
      for (const frame of reader.push(chunk)) {
        if (frame.flag !== 0) throw new Error('compressed reflection requests are not supported');
        const req = Request.toObject(Request.decode(frame.message)) as ReflectionRequest;
        if (!headersSent) {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          headersSent = true;
        }
        stream.write(frameMessage(Response.encode(Response.fromObject(reflect(req))).finish()));
      }
    } catch (err) {
      finish(GrpcCode.INVALID_ARGUMENT, `reflection: ${(err as Error).message}`);
    }
  });
  stream.on('end', () => finish(GrpcCode.OK));
  stream.on('error', () => undefined);
}
