// `mlops dev` as a user runs it: a synthesized app folder, the real runtime components as child
// processes, real MLServer; then `mlops infer` through the printed gateway and, with Kafka,
// `mlops inspect` on the pipeline's topics.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KafkaBus } from '../../src/runtime/bus/kafka-bus.ts';
import { encodeRequest } from '../../src/runtime/oip/messages.ts';
import { freePort, type KafkaBroker, repoRoot, startKafka, trainIrisModel } from './harness/index.ts';
import { describeE2E } from './harness/toolchain.ts';

const run = promisify(execFile);
const bin = join(repoRoot, 'bin', 'mlops.js');
// One flower of each species: setosa, virginica, versicolor.
const FLOWERS = [5.1, 3.5, 1.4, 0.2, 6.3, 3.3, 6.0, 2.5, 6.4, 3.2, 4.5, 1.5];
const REQUEST = JSON.stringify({
  inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: FLOWERS }],
});

const APP = `
import { Size } from 'cdk8s';
import { Environment, MlopsApp, Model, Pipeline, Server, ServerConfig } from 'cdk8s-mlops';

const app = new MlopsApp();
const env = new Environment(app, 'quick', { namespace: 'demo' });
const mlserver = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, memory: Size.mebibytes(512) });
const iris = new Model(env, 'iris', {
  storageUri: process.env.IRIS_URI ?? '',
  requirements: ['sklearn'],
  memory: '10Mi',
  server: mlserver,
});
new Pipeline(env, 'flowers', { steps: [{ model: iris }], output: { steps: [iris] } });
app.synth();
`;

/** A project folder with `dist/quick/` synthesized from a quickstart-like app serving a trained iris model. */
async function quickstartProject(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-dev-'));
  const model = await trainIrisModel(join(dir, 'models'));
  writeFileSync(join(dir, 'quick.ts'), APP);
  await run(
    process.execPath,
    [bin, 'synth', '--app', join(dir, 'quick.ts'), '--out', join(dir, 'dist', 'quick')],
    {
      cwd: dir,
      env: { ...process.env, IRIS_URI: `file://${model}` },
    },
  );
  return dir;
}

interface DevProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `re` in the output. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function startDev(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): DevProcess {
  // Its own process group, so a failed test can still take every component down.
  const child = spawn(process.execPath, [bin, 'dev', ...args], {
    cwd,
    detached: true,
    stdio: 'pipe',
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const m = out.match(re);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`mlops dev never printed ${re}; output:\n${out.slice(-4000)}`);
    },
  };
}

function killGroup(dev: DevProcess | undefined): void {
  if (dev?.child.pid && dev.child.exitCode === null) {
    try {
      process.kill(-dev.child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

async function mlops(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const predictions = (stdout: string) =>
  (JSON.parse(stdout) as { outputs: { name: string; data: number[] }[] }).outputs.map((o) => [
    o.name,
    o.data,
  ]);

describeE2E('mlops dev with real MLServer, in-process bus', ['python3'], () => {
  let project: string;
  let dev: DevProcess | undefined;
  let configHome: string;

  beforeAll(async () => {
    project = await quickstartProject();
    configHome = mkdtempSync(join(tmpdir(), 'mlops-e2e-dev-config-'));
  }, 180_000);

  afterAll(() => {
    killGroup(dev);
    if (project) rmSync(project, { recursive: true, force: true });
    if (configHome) rmSync(configHome, { recursive: true, force: true });
  });

  it('runs the app, prints a curl that works, serves the model and the pipeline, and stops on Ctrl-C', async () => {
    const port = await freePort();
    dev = startDev(project, ['--port', String(port)]);
    await dev.waitFor(/mlops dev is running:/, 60_000);
    expect(dev.output()).toContain(`gateway    http://127.0.0.1:${port} (OIP REST)`);
    expect(dev.output()).toContain('pipelines  flowers on an in-process bus');
    expect(dev.output()).toMatch(/server {5}mlserver ×1 \(MLServer from /);
    const [, gateway, body] = await dev.waitFor(
      /curl -s (http:\/\/127\.0\.0\.1:\d+)\/v2\/models\/iris\/infer -H 'content-type: application\/json' -d '(.*)'\n/,
      150_000,
    );
    expect(gateway).toBe(`http://127.0.0.1:${port}`);
    expect(dev.output()).toContain('mlops dev: model iris: ModelAvailable');
    await dev.waitFor(/mlops dev: pipeline flowers: Ready\n/, 10_000);
    expect((await fetch(`${gateway}/v2/pipelines/flowers/ready`)).status).toBe(200);
    expect(dev.output()).toMatch(/^agent mlserver-0 +\| INFO {2}/m);

    // The printed request, as printed, through the printed gateway.
    const printed = await fetch(`${gateway}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(printed.status).toBe(200);
    expect(((await printed.json()) as { outputs: { data: number[] }[] }).outputs[0].data).toEqual([0]);

    const env = { MLOPS_GATEWAY: gateway, XDG_CONFIG_HOME: configHome };
    const model = await mlops(['infer', 'iris', REQUEST], env);
    expect(model.code, model.stderr).toBe(0);
    expect(predictions(model.stdout)).toEqual([['predict', [0, 2, 1]]]);

    const pipeline = await mlops(
      ['infer', 'flowers.pipeline', REQUEST, '--show-headers', '--header', 'x-team=a'],
      env,
    );
    expect(pipeline.code, pipeline.stderr).toBe(0);
    expect(predictions(pipeline.stdout)).toEqual([['predict', [0, 2, 1]]]);
    expect(pipeline.stderr).toMatch(/^HTTP 200 OK\n/);
    expect(pipeline.stderr).toContain('x-seldon-route: :flowers.pipeline:');
    expect(pipeline.stderr).toContain('x-team: a');

    const missing = await mlops(['infer', 'nope', REQUEST], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^infer nope: HTTP 404: .*nope/);

    // Ctrl-C: every component stops, the gateway port is released, exit 0.
    process.kill(dev.child.pid as number, 'SIGINT');
    expect(await dev.exited).toBe(0);
    expect(dev.output()).toContain('SIGINT, stopping every component');
    await expect(fetch(`${gateway}/v2/health/live`)).rejects.toThrow();
  }, 240_000);
});

describeE2E('mlops dev without MLServer', [], () => {
  let project: string;
  let dev: DevProcess | undefined;

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'mlops-e2e-dev-bare-'));
    writeFileSync(join(project, 'quick.ts'), APP);
    await run(
      process.execPath,
      [bin, 'synth', '--app', join(project, 'quick.ts'), '--out', join(project, 'dist', 'quick')],
      {
        cwd: project,
        env: { ...process.env, IRIS_URI: 'file:///nowhere/iris' },
      },
    );
  }, 60_000);

  afterAll(() => {
    killGroup(dev);
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('stops everything when the process that started it dies, as when npx is killed', async () => {
    const port = await freePort();
    // A shell in the place of npx: `; true` keeps it from exec-ing node, so it stays the parent.
    const command = [process.execPath, bin, 'dev', '--port', String(port), '--settle-ms', '1000']
      .map((a) => `'${a}'`)
      .join(' ');
    const wrapper = spawn('sh', ['-c', `${command}; true`], {
      cwd: project,
      detached: true,
      stdio: 'pipe',
      env: {
        ...process.env,
        PATH: '/usr/bin:/bin',
        MLSERVER_BIN: '',
        MLOPS_CACHE: join(project, 'no-cache'),
      },
    });
    let out = '';
    wrapper.stdout?.on('data', (c) => {
      out += c;
    });
    wrapper.stderr?.on('data', (c) => {
      out += c;
    });
    try {
      await expect.poll(() => out, { timeout: 60_000, interval: 200 }).toContain('mlops dev is running:');
      expect((await fetch(`http://127.0.0.1:${port}/v2/health/live`)).ok).toBe(true);
      process.kill(wrapper.pid as number, 'SIGKILL');
      await expect
        .poll(() => out, { timeout: 20_000, interval: 200 })
        .toContain('mlops dev: the process that started it is gone; stopping everything');
      await expect
        .poll(
          async () =>
            fetch(`http://127.0.0.1:${port}/v2/health/live`).then(
              () => 'open',
              () => 'closed',
            ),
          {
            timeout: 20_000,
            interval: 200,
          },
        )
        .toBe('closed');
    } finally {
      try {
        process.kill(-(wrapper.pid as number), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }, 90_000);

  it('says how to install MLServer and keeps running; a component that dies is reported with its log and started again', async () => {
    const port = await freePort();
    const workDir = join(project, 'work');
    dev = startDev(project, ['--port', String(port), '--work-dir', workDir, '--settle-ms', '1000'], {
      PATH: '/usr/bin:/bin',
      MLSERVER_BIN: '',
      MLOPS_CACHE: join(project, 'no-cache'),
    });
    await dev.waitFor(/mlops dev is running:/, 60_000);
    expect(dev.output()).toContain(
      'warning: MLServer not found, so no model can be served; install it with `pip install mlserver mlserver-sklearn`',
    );
    expect(dev.output()).toContain('or run `npm run provision` in this project');
    expect(dev.output()).toContain('server     mlserver ×1 (MLServer missing)');
    const res = await fetch(`http://127.0.0.1:${port}/v2/models/iris/infer`, {
      method: 'POST',
      body: REQUEST,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    await dev.waitFor(/No model is available yet \(iris: /, 30_000);
    // Its pipeline says which step waits on which model.
    await dev.waitFor(/mlops dev: pipeline flowers: Model\w+ \(step "\w+": model "iris" is \w+/, 10_000);
    // Once the scheduler publishes it (after waiting for the server's pods), the gateway knows
    // the pipeline and says it is not ready.
    let pipelineReady = await fetch(`http://127.0.0.1:${port}/v2/pipelines/flowers/ready`);
    for (let i = 0; pipelineReady.status === 404 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200));
      pipelineReady = await fetch(`http://127.0.0.1:${port}/v2/pipelines/flowers/ready`);
    }
    expect(pipelineReady.status).toBe(503);
    expect(await pipelineReady.text()).toContain('not all of its models are available');

    // The scheduler dies: reported with its last lines and started again; the rest keeps running
    // and the gateway follows the new scheduler (the pipeline is known, and still not ready).
    const { stdout } = await run('pgrep', ['-f', `scheduler --manifests ${workDir}/manifests`]);
    process.kill(Number(stdout.trim().split('\n')[0]), 'SIGKILL');
    await dev.waitFor(/mlops dev: scheduler exited \(SIGKILL\); starting it again in 0\.5 s/, 10_000);
    expect(dev.output()).toMatch(
      /mlops dev: scheduler exited \(SIGKILL\); starting it again in 0\.5 s; its last lines:\n( {2}scheduler +\| .*\n)* {2}scheduler +\| INFO {2}scheduler listening/,
    );
    await dev.waitFor(/(scheduler +\| INFO {2}scheduler listening[\s\S]*){2}/, 20_000);
    let again = await fetch(`http://127.0.0.1:${port}/v2/pipelines/flowers/ready`);
    for (let i = 0; again.status !== 503 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200));
      again = await fetch(`http://127.0.0.1:${port}/v2/pipelines/flowers/ready`);
    }
    expect(again.status).toBe(503);
    expect(dev.output()).not.toContain('stopping everything');
    // Ctrl-C still stops everything.
    process.kill(dev.child.pid as number, 'SIGINT');
    expect(await dev.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/v2/health/live`)).rejects.toThrow();
  }, 120_000);
});

describeE2E('mlops dev --kafka and mlops inspect on a real broker', ['python3', 'java'], () => {
  let project: string;
  let kafka: KafkaBroker;
  let dev: DevProcess | undefined;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    [project, kafka] = await Promise.all([quickstartProject(), startKafka()]);
  }, 240_000);

  afterAll(async () => {
    killGroup(dev);
    await kafka?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('runs pipelines on Kafka and reads back what a request left on each topic', async () => {
    const brokers = kafka.brokers.join(',');
    const port = await freePort();
    dev = startDev(project, ['--port', String(port), '--kafka', brokers]);
    await dev.waitFor(/Try it/, 180_000);
    expect(dev.output()).toContain(
      `inspect    npx mlops inspect flowers --kafka ${brokers} --namespace demo`,
    );
    const gateway = `http://127.0.0.1:${port}`;

    // Another pipeline's record on the shared model topic must not show up for this one.
    const bus = new KafkaBus({ brokers: kafka.brokers, logger, instanceId: 'inspect-e2e' });
    await bus.publish([
      {
        topic: 'seldon.demo.model.iris.inputs',
        key: 'other-key',
        value: encodeRequest({ modelName: 'iris', inputs: [] }),
        headers: { pipeline: 'other', 'x-request-id': 'req-2' },
      },
    ]);
    await bus.close();

    for (const id of ['req-1', 'req-2']) {
      const r = await mlops([
        'infer',
        'flowers.pipeline',
        REQUEST,
        '--gateway',
        gateway,
        '--header',
        `x-request-id=${id}`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(predictions(r.stdout)).toEqual([['predict', [0, 2, 1]]]);
    }

    const base = ['--kafka', brokers, '--namespace', 'demo'];
    const all = await mlops(['inspect', 'flowers', ...base, '--request-id', 'req-1']);
    expect(all.code, all.stderr).toBe(0);
    const blocks = all.stdout.trim().split('\n\n');
    expect(blocks.map((b) => b.split(' ')[0])).toEqual([
      'seldon.demo.pipeline.flowers.inputs',
      'seldon.demo.model.iris.inputs',
      'seldon.demo.model.iris.outputs',
      'seldon.demo.pipeline.flowers.outputs',
    ]);
    expect(blocks[0]).toContain(`predict FP64[3,4] = [${FLOWERS.join(', ')}]`);
    expect(blocks[3]).toContain('predict INT64[3,1] = [0, 2, 1]');
    for (const b of blocks) expect(b).toMatch(/pipeline=flowers x-request-id=req-1/);

    const json = await mlops(['inspect', 'flowers.iris.inputs', ...base, '-n', '5', '--format', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const records = JSON.parse(json.stdout) as {
      headers: Record<string, string>;
      tensors: { data: number[] }[];
    }[];
    // Both requests of this pipeline, oldest first; the other pipeline's record is filtered out.
    expect(records.map((r) => r.headers['x-request-id'])).toEqual(['req-1', 'req-2']);
    expect(records.every((r) => r.headers.pipeline === 'flowers')).toBe(true);
    expect(records[1].tensors[0].data).toEqual(FLOWERS);

    const tensor = await mlops(['inspect', 'flowers.outputs.predict', ...base]);
    expect(tensor.stdout).toMatch(/x-request-id=req-2\n {2}predict INT64\[3,1\] = \[0, 2, 1\]\n$/);
    const absent = await mlops(['inspect', 'flowers.outputs.probs', ...base]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(
      /no messages with tensor probs in the last 1000 records of seldon.demo.pipeline.flowers.outputs/,
    );
    const wrongNs = await mlops(['inspect', 'flowers', '--kafka', brokers, '--namespace', 'prod']);
    expect(wrongNs.code).toBe(1);
    expect(wrongNs.stderr).toMatch(
      /no topic seldon.prod.pipeline.flowers.inputs.*nothing under seldon.prod\./,
    );

    process.kill(dev.child.pid as number, 'SIGTERM');
    expect(await dev.exited).toBe(0);
  }, 300_000);
});
