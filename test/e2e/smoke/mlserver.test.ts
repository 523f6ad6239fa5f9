import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../harness/cache.ts';
import { trainIrisModel } from '../harness/iris.ts';
import { type MlserverInstance, startMlserver } from '../harness/mlserver.ts';
import { describeE2E } from '../harness/toolchain.ts';

// One flower of each species, in the order setosa, versicolor, virginica.
const flowers = [5.1, 3.5, 1.4, 0.2, 6.4, 3.2, 4.5, 1.5, 6.3, 3.3, 6.0, 2.5];

interface InferResponse {
  model_name: string;
  outputs: { name: string; contents: { int64_contents: number[] } }[];
}
type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res: InferResponse) => void) => void;
type InferenceClient = grpc.Client & { ModelInfer: Unary };

describeE2E('MLServer (PyPI) through the OIP repository API', ['python3'], () => {
  let parent: string;
  let server: MlserverInstance;
  let grpcClient: InferenceClient;

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'mlops-e2e-models-'));
    await trainIrisModel(parent, 'iris');
    server = await startMlserver({ modelsDir: parent });
    const definition = protoLoader.loadSync(join(repoRoot, 'proto/inference.proto'), {
      keepCase: true,
      longs: Number,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      inference: { GRPCInferenceService: new (a: string, c: grpc.ChannelCredentials) => InferenceClient };
    };
    grpcClient = new pkg.inference.GRPCInferenceService(
      server.grpcAddress,
      grpc.credentials.createInsecure(),
    );
  });
  afterAll(async () => {
    grpcClient?.close();
    await server?.stop();
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  const post = (path: string, body?: unknown) =>
    fetch(`${server.httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const restInfer = () =>
    post('/v2/models/iris/infer', {
      inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: flowers }],
    });

  const grpcInfer = () =>
    new Promise<InferResponse>((resolve, reject) =>
      grpcClient.ModelInfer(
        {
          model_name: 'iris',
          inputs: [
            { name: 'predict', datatype: 'FP64', shape: [3, 4], contents: { fp64_contents: flowers } },
          ],
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );

  it('starts with nothing loaded and lists the model folder in the repository index', async () => {
    const res = await post('/v2/repository/index', {});
    expect(res.status).toBe(200);
    const index = (await res.json()) as { name: string; state: string }[];
    expect(index.map((m) => m.name)).toContain('iris');
    expect(index.find((m) => m.name === 'iris')?.state).not.toBe('READY');
    expect((await restInfer()).ok).toBe(false);
  });

  it('loads the model through the repository API and infers over REST', async () => {
    const load = await post('/v2/repository/models/iris/load');
    expect(load.status).toBe(200);
    const res = await restInfer();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model_name: string; outputs: { data: number[] }[] };
    expect(body.model_name).toBe('iris');
    expect(body.outputs[0].data).toEqual([0, 1, 2]);
  }, 60_000);

  it('infers over gRPC (OIP ModelInfer)', async () => {
    const res = await grpcInfer();
    expect(res.model_name).toBe('iris');
    expect(res.outputs[0].contents.int64_contents).toEqual([0, 1, 2]);
  });

  it('unloads the model, after which inference fails on both protocols', async () => {
    const unload = await post('/v2/repository/models/iris/unload');
    expect(unload.status).toBe(200);
    const res = await restInfer();
    expect(res.status).toBe(404);
    await expect(grpcInfer()).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  }, 60_000);
});
