// The runtime image, built without a Docker daemon (scripts/image/build.sh: an OCI layout) and
// run from its own filesystem as its own USER: scheduler, agent, gateway and dataflow against a
// real Kafka broker and a real MLServer serve a model and answer a pipeline.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RUNTIME_UID, SHARED_GID } from '../../src/constructs/workloads/workload.ts';
import { type ArgvValues, type Component, componentArgv } from '../../src/spec/flags.ts';
import {
  buildRuntimeImage,
  giveToImageUser,
  imageCommand,
  ownerOf,
  type RuntimeImage,
  treeBytes,
} from './harness/image.ts';
import {
  freePort,
  type KafkaBroker,
  logTail,
  type ManagedProcess,
  type MlserverInstance,
  repoRoot,
  startKafka,
  startMlserver,
  startProcess,
  trainIrisModel,
  waitUntilReady,
} from './harness/index.ts';
import { logContains } from './harness/process.ts';
import { describeE2E } from './harness/toolchain.ts';

// One flower of each species: setosa, versicolor, virginica.
const FLOWERS = [5.1, 3.5, 1.4, 0.2, 6.4, 3.2, 4.5, 1.5, 6.3, 3.3, 6.0, 2.5];
const REQUEST = JSON.stringify({
  inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: FLOWERS }],
});
const MB = 1_000_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The final stage of the Dockerfile, as `[instruction, arguments]`. */
function dockerfileFinalStage(): [string, string][] {
  const lines = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').split('\n');
  const from = lines.findLastIndex((l) => l.startsWith('FROM '));
  return lines
    .slice(from + 1)
    .map((l) => /^([A-Z]+)\s+(.*)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => [m[1], m[2]]);
}

describeE2E('runtime image: built without Docker, run from its filesystem', ['java', 'python3'], () => {
  let image: RuntimeImage;
  let dir: string;
  let kafka: KafkaBroker;
  let mlserver: MlserverInstance;
  const procs: ManagedProcess[] = [];
  const ports: Record<string, number> = {};

  /** Starts one component of the image, its log in `dir`, and waits for `ready`. */
  async function component<C extends Component>(
    name: C,
    flags: ArgvValues<C>,
    ready: (proc: ManagedProcess) => Promise<boolean>,
  ): Promise<ManagedProcess> {
    const { command, args } = imageCommand(image, componentArgv(name, flags), [dir]);
    const proc = startProcess(name, command, args, { logFile: join(dir, `${name}.log`) });
    procs.push(proc);
    await waitUntilReady(proc, `${name} from the image`, () => ready(proc), 60_000);
    return proc;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-image-run-'));
    const manifests = join(dir, 'manifests');
    mkdirSync(manifests);
    mkdirSync(join(dir, 'models'));
    const artifact = await trainIrisModel(join(dir, 'artifacts'), 'iris');
    [image, kafka, mlserver] = await Promise.all([
      buildRuntimeImage(),
      startKafka(),
      startMlserver({ modelsDir: join(dir, 'models') }),
    ]);
    // The agent writes the models MLServer loads, as in a pod whose fsGroup both containers share.
    await giveToImageUser(image, dir);
    writeFileSync(
      join(manifests, 'app.yaml'),
      `apiVersion: mlops.seldon.io/v1alpha1
kind: Server
metadata: { name: mlserver, namespace: default }
spec: { serverConfig: mlserver, replicas: 1 }
---
apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata: { name: iris, namespace: default }
spec: { storageUri: "file://${artifact}", requirements: [sklearn], memory: 10Mi }
---
apiVersion: mlops.seldon.io/v1alpha1
kind: Pipeline
metadata: { name: flowers, namespace: default }
spec:
  steps: [{ name: iris }]
  output: { steps: [iris] }
`,
    );
    for (const p of [
      'sched',
      'health',
      'agentHttp',
      'agentGrpc',
      'agentAdmin',
      'gwHttp',
      'gwGrpc',
      'pgHttp',
      'pgGrpc',
    ])
      ports[p] = await freePort();
    const scheduler = `127.0.0.1:${ports.sched}`;

    await component(
      'scheduler',
      { manifests, port: ports.sched, 'health-port': ports.health, 'wait-for-servers-ms': 0 },
      async () => (await fetch(`http://127.0.0.1:${ports.health}/live`)).ok,
    );
    await component(
      'agent',
      {
        scheduler,
        server: 'mlserver',
        replica: 0,
        memory: '100Mi',
        'inference-url': mlserver.httpUrl,
        'inference-grpc': mlserver.grpcAddress,
        'models-dir': mlserver.modelsDir,
        'cache-dir': join(dir, 'agent-cache'),
        capabilities: ['mlserver', 'sklearn'],
        host: '127.0.0.1',
        'http-port': ports.agentHttp,
        'grpc-port': ports.agentGrpc,
        'admin-port': ports.agentAdmin,
      },
      async () => (await fetch(`http://127.0.0.1:${ports.agentAdmin}/ready`)).ok,
    );
    await component(
      'gateway',
      {
        scheduler,
        'http-port': ports.gwHttp,
        'grpc-port': ports.gwGrpc,
        'pipeline-gateway': [`127.0.0.1:${ports.pgHttp}:${ports.pgGrpc}`],
      },
      async () => (await fetch(`http://127.0.0.1:${ports.gwHttp}/v2/health/ready`)).ok,
    );
    await component(
      'dataflow',
      {
        manifests,
        namespace: 'default',
        brokers: kafka.brokers,
        inference: `127.0.0.1:${ports.gwGrpc}`,
        host: '127.0.0.1',
        'http-port': ports.pgHttp,
        'grpc-port': ports.pgGrpc,
        'instance-id': 'dataflow-0',
      },
      async (proc) => logContains(proc.logFile, 'pipeline gateway listening'),
    );
  }, 600_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop(5_000);
    await mlserver?.stop();
    await kafka?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (image) rmSync(join(image.rootfs, '..'), { recursive: true, force: true });
  });

  /** POSTs the iris request until it answers 200 (the model loads, topics get created) or times out. */
  async function inferUntilServed(path: string, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const res = await fetch(`http://127.0.0.1:${ports.gwHttp}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: REQUEST,
      });
      const text = await res.text();
      if (res.status === 200) return { headers: res.headers, body: JSON.parse(text) };
      last = `${res.status} ${text}`;
      await sleep(500);
    }
    throw new Error(
      `${path} never answered: ${last}\n${procs.map((p) => `${p.name}:\n${logTail(p.logFile, 15)}`).join('\n')}`,
    );
  }

  it('is small, holds no dev dependencies or TypeScript, and is configured as the Dockerfile says', async () => {
    const unpacked = await treeBytes(image.rootfs);
    console.log(
      `runtime image ${image.ref}: ${(image.compressedBytes / MB).toFixed(1)} MB compressed layers, ${(unpacked / MB).toFixed(0)} MB unpacked`,
    );
    // A guard against dev dependencies or peers creeping in (they would add over 100 MB).
    expect(image.compressedBytes).toBeLessThan(80 * MB);
    const app = join(image.rootfs, 'app');
    const modules = readdirSync(join(app, 'node_modules'));
    for (const dev of ['typescript', 'vitest', '@biomejs', 'cdk8s', 'cdk8s-plus-28', 'fast-check'])
      expect(modules).not.toContain(dev);
    // Nothing the lockfile marks as a dev, optional or peer package, whichever npm built it.
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')).packages as Record<
      string,
      { dev?: boolean; devOptional?: boolean; optional?: boolean; peer?: boolean }
    >;
    const unwanted = Object.entries(lock)
      .filter(([path, p]) => path && (p.dev || p.devOptional || p.optional || p.peer))
      .map(([path]) => path);
    expect(unwanted.length).toBeGreaterThan(100);
    expect(unwanted.filter((path) => existsSync(join(app, path)))).toEqual([]);
    expect(existsSync(join(image.rootfs, 'app', 'src'))).toBe(false);
    expect(existsSync(join(image.rootfs, 'app', 'lib', 'runtime', 'main.js'))).toBe(true);
    // The agent copies object-store artifacts with rclone, which the image must carry.
    expect(existsSync(join(image.rootfs, 'usr', 'bin', 'rclone'))).toBe(true);

    // `docker build` gives the same configuration: every final-stage instruction is in the image.
    const config = image.config;
    for (const [op, arg] of dockerfileFinalStage()) {
      if (op === 'ENV') expect(config.Env).toContain(arg);
      if (op === 'WORKDIR') expect(config.WorkingDir).toBe(arg);
      if (op === 'USER') expect(config.User).toBe(arg);
      if (op === 'ENTRYPOINT') expect(config.Entrypoint).toEqual(JSON.parse(arg));
    }
    // And the same layers: the Dockerfile runs the scripts build.sh assembles.
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('bash scripts/image/base.sh');
    expect(dockerfile).toContain('bash scripts/image/app.sh');
    // The user the synthesized pods run as (runAsUser, fsGroup).
    expect(config.User).toBe(`${RUNTIME_UID}:${SHARED_GID}`);
  });

  it("runs Debian's Node 20 as the image's user, not root", async () => {
    const { command, args } = imageCommand({ ...image, config: { ...image.config, Entrypoint: [] } }, [
      '/usr/bin/node',
      '-p',
      'JSON.stringify([process.version, process.getuid(), process.getgid(), process.cwd()])',
    ]);
    const out = startProcess('node-version', command, args, { logFile: join(dir, 'node-version.log') });
    expect(await out.exited).toBe(0);
    const [version, uid, gid, cwd] = JSON.parse(readFileSync(out.logFile, 'utf8'));
    expect(version).toMatch(/^v20\./);
    expect([uid, gid]).toEqual([RUNTIME_UID, SHARED_GID]);
    expect(cwd).toBe('/app');
  });

  it('serves a model through the gateway and the agent', async () => {
    const { headers, body } = await inferUntilServed('/v2/models/iris/infer');
    // Answered by version 1 of the model, which the agent loaded into MLServer; the client sees
    // the name it asked for, the route header the replica's internal name.
    expect(body.model_name).toBe('iris');
    expect(body.outputs[0].data).toEqual([0, 1, 2]);
    expect(headers.get('x-seldon-route')).toBe(':iris_1:');
    // The agent put the model where MLServer loads it from, as the image's user (mapped back to the
    // caller when not run as root).
    const owner =
      process.getuid?.() === 0 ? image.config.User : `${process.getuid?.()}:${process.getgid?.()}`;
    expect(ownerOf(join(mlserver.modelsDir, readdirSync(mlserver.modelsDir)[0]))).toBe(owner);
  }, 120_000);

  it('answers a pipeline over Kafka', async () => {
    const { headers, body } = await inferUntilServed('/v2/pipelines/flowers/infer');
    expect(headers.get('x-seldon-route')).toBe(':flowers.pipeline:');
    expect(body.outputs.map((o: { data: number[] }) => o.data)).toEqual([[0, 1, 2]]);
    for (const p of procs) expect(p.isRunning(), `${p.name} still running`).toBe(true);
  }, 120_000);
});
