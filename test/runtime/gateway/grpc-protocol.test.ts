import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../../src/runtime/gateway/gateway.ts';
import { staticRouteUpdate } from '../../../src/runtime/gateway/static-routes.ts';
import { reflect } from '../../../src/runtime/oip/reflection.ts';
import { RouteTable } from '../../../src/runtime/protocol/route-table.ts';
import { fakeGrpcModel, inferencePackage } from './grpc-fixtures.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const request = (model: string, id: string, shape = [1, 2]) => ({
  model_name: model,
  id,
  inputs: [{ name: 'x', datatype: 'FP32', shape, contents: { fp32_contents: [1, 2] } }],
});

/** A gateway over one fake model served as `iris_1`, the way a replica names version 1 of iris. */
async function setup(options: grpc.ChannelOptions = {}) {
  const upstream = await fakeGrpcModel('iris_1');
  cleanups.push(upstream.close);
  const update = staticRouteUpdate({
    models: { iris: [{ host: '127.0.0.1', httpPort: upstream.port, grpcPort: upstream.port }] },
  });
  update.models[0].versions[0].internalName = 'iris_1';
  const routes = new RouteTable();
  routes.apply(update);
  const gw = await startGateway({ routes, host: '127.0.0.1' });
  cleanups.push(() => gw.close());
  const pkg = inferencePackage();
  // biome-ignore lint/suspicious/noExplicitAny: dynamically loaded gRPC service
  const client: any = new pkg.GRPCInferenceService(
    `127.0.0.1:${gw.grpcPort}`,
    grpc.credentials.createInsecure(),
    options,
  );
  cleanups.push(() => client.close());
  const unary = <T>(method: string, req: unknown) =>
    new Promise<T>((resolve, reject) =>
      client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
    );
  return { upstream, client, unary, port: gw.grpcPort };
}

describe('gRPC gateway protocol coverage', () => {
  it('names the model as the client did and sends the replica its internal name', async () => {
    const { upstream, unary } = await setup();
    const res = await unary<{ model_name: string }>('ModelInfer', request('iris', 'a'));
    expect(res.model_name).toBe('iris');
    expect(upstream.seen[0].request.model_name).toBe('iris_1');
  });

  it('answers ModelReady for the route version, and ready: false for another version or an unknown model', async () => {
    const { unary } = await setup();
    expect(await unary('ModelReady', { name: 'iris', version: '1' })).toEqual({ ready: true });
    expect(await unary('ModelReady', { name: 'iris', version: '2' })).toEqual({ ready: false });
    expect(await unary('ModelReady', { name: 'nope' })).toEqual({ ready: false });
  });

  it('refuses a request whose contents do not match its shape, before it reaches the model', async () => {
    const { upstream, unary } = await setup();
    await expect(unary('ModelInfer', request('iris', 'b', [1, 3]))).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining(
        'input "x": shape [1,3] holds 3 elements but contents.fp32_contents has 2',
      ),
    });
    expect(upstream.seen).toHaveLength(0);
  });

  it('accepts gzip-compressed calls', async () => {
    const { upstream, unary } = await setup({ 'grpc.default_compression_algorithm': 2 });
    const res = await unary<{ model_name: string }>('ModelInfer', request('iris', 'gz'));
    expect(res.model_name).toBe('iris');
    expect(upstream.seen[0].request.id).toBe('gz');
  });

  it('streams ModelStreamInfer: one response per request while the stream stays open', async () => {
    const { client } = await setup();
    const call = client.ModelStreamInfer();
    const ids: string[] = [];
    const firstTwo = new Promise<void>((resolve) =>
      call.on('data', (res: { id: string; model_name: string }) => {
        expect(res.model_name).toBe('iris');
        ids.push(res.id);
        if (ids.length === 2) resolve();
      }),
    );
    call.write(request('iris', 's1'));
    call.write(request('iris', 's2'));
    await firstTwo; // answered before the client closes its side
    const ended = new Promise<void>((resolve, reject) => {
      call.on('status', (s: grpc.StatusObject) => (s.code === 0 ? resolve() : reject(new Error(s.details))));
    });
    call.write(request('iris', 's3'));
    call.end();
    await ended;
    expect(ids.sort()).toEqual(['s1', 's2', 's3']);
  });

  it('refuses an unserved method with UNIMPLEMENTED while the client still holds its stream open', async () => {
    const { port } = await setup();
    const started = Date.now();
    // A streaming call the client never ends: the answer must not wait for it.
    const generic = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    cleanups.push(() => generic.close());
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      const s = generic.makeBidiStreamRequest(
        '/inference.GRPCInferenceService/RepositoryIndex',
        (b: Buffer) => b,
        (b: Buffer) => b,
      );
      s.on('status', resolve);
      s.on('error', () => undefined);
      s.write(Buffer.alloc(0));
    });
    expect(status.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('server reflection', () => {
  it('lists the inference service and describes its symbols; anything else is NOT_FOUND', () => {
    expect(reflect({ listServices: '' })).toMatchObject({
      listServicesResponse: { service: [{ name: 'inference.GRPCInferenceService' }] },
    });
    const file = reflect({ fileContainingSymbol: 'inference.GRPCInferenceService' }) as {
      fileDescriptorResponse: { fileDescriptorProto: Buffer[] };
    };
    expect(file.fileDescriptorResponse.fileDescriptorProto[0].toString('latin1')).toContain(
      'ModelStreamInfer',
    );
    expect(reflect({ fileContainingSymbol: 'other.Service' })).toMatchObject({
      errorResponse: { errorCode: 5 },
    });
  });
});
