import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { localCopy, resolveModelsDir, withLocalModels } from '../../src/cli/dev/local-models.ts';
import { formatLogLine, LineSplitter } from '../../src/cli/dev/log-format.ts';
import { resolveManifestDir } from '../../src/cli/dev/manifest-dir.ts';
import { ManifestView } from '../../src/cli/dev/manifest-view.ts';
import { findMlserver } from '../../src/cli/dev/mlserver-bin.ts';
import {
  agentsConnected,
  modelStates,
  pipelineStates,
  settled,
  stateChanges,
} from '../../src/cli/dev/model-states.ts';
import { unrunnableModels } from '../../src/cli/dev/runnable.ts';
import { type Child, type Death, Supervisor } from '../../src/cli/dev/supervisor.ts';
import { devTopology } from '../../src/cli/dev/topology.ts';
import { sampleRequest, shellQuote, tryCommands } from '../../src/cli/dev/try-it.ts';
import type { KubeObject } from '../../src/spec/types.ts';

const bin = fileURLToPath(new URL('../../bin/mlops.js', import.meta.url));
const V = 'mlops.seldon.io/v1alpha1';

function obj(kind: string, name: string, namespace: string, spec: unknown): KubeObject {
  return { apiVersion: V, kind, metadata: { name, namespace }, spec };
}

/** Running, and not a zombie waiting to be reaped by whoever adopted it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mlops-dev-unit-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('which folder mlops dev runs', () => {
  it('takes DIR, the --app folder, or the only app in dist', () => {
    const cwd = join(tmp, 'project');
    mkdirSync(join(cwd, 'dist', 'quickstart'), { recursive: true });
    mkdirSync(join(cwd, 'manifests'), { recursive: true });
    expect(resolveManifestDir(undefined, undefined, cwd)).toBe(join(cwd, 'dist', 'quickstart'));
    expect(resolveManifestDir('manifests', undefined, cwd)).toBe(join(cwd, 'manifests'));
    // An absolute DIR is taken as it is, whatever the current folder.
    expect(resolveManifestDir(join(cwd, 'manifests'), undefined, join(tmp, 'elsewhere'))).toBe(
      join(cwd, 'manifests'),
    );
    expect(resolveManifestDir(undefined, 'apps/quickstart.ts', cwd)).toBe(join(cwd, 'dist', 'quickstart'));
    mkdirSync(join(cwd, 'dist', 'prod'));
    expect(() => resolveManifestDir(undefined, undefined, cwd)).toThrow(
      'dist holds several apps (prod, quickstart); pick one with --app NAME',
    );
    expect(resolveManifestDir(undefined, 'prod', cwd)).toBe(join(cwd, 'dist', 'prod'));
    expect(() => resolveManifestDir(undefined, 'staging', cwd)).toThrow(
      /no dist\/staging; apps in dist: prod, quickstart \(run `npx mlops synth`/,
    );
    expect(() => resolveManifestDir('nope', undefined, cwd)).toThrow(/nope: no such directory/);
    expect(() => resolveManifestDir(undefined, undefined, join(tmp, 'empty'))).toThrow(
      /dist has no synthesized apps; run `npx mlops synth` first/,
    );
  });
});

describe('topology', () => {
  const objects = [
    obj('Server', 'mlserver', 'prod', {
      serverConfig: 'mlserver',
      replicas: 2,
      podSpec: {
        containers: [
          { name: 'mlserver', resources: { requests: { memory: '4Gi' } } },
          { name: 'agent', env: [{ name: 'SELDON_OVERCOMMIT_PERCENTAGE', value: '30' }] },
        ],
      },
      extraCapabilities: ['gpu'],
    }),
    obj('Server', 'triton', 'prod', { serverConfig: 'triton' }),
    obj('Server', 'custom', 'prod', { serverConfig: 'mine', capabilities: ['mlserver', 'sklearn'] }),
    obj('ServerConfig', 'mine', 'prod', {
      podSpec: {
        containers: [
          { name: 'server', resources: { requests: { memory: '300Mi' } } },
          { name: 'agent', env: [{ name: 'SELDON_SERVER_CAPABILITIES', value: 'ignored' }] },
        ],
      },
    }),
    obj('Model', 'iris', 'prod', { storageUri: 'gs://bucket/iris', server: 'mlserver' }),
    obj('Model', 'local', 'prod', { storageUri: 'file:///models/local' }),
    obj('Pipeline', 'fraud', 'prod', { steps: [{ name: 'iris' }, { name: 'local' }] }),
    obj('Experiment', 'ab', 'prod', { candidates: [] }),
    obj('Model', 'other', 'staging', { storageUri: 'file:///x' }),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
  ];

  it('reads servers as agents will register them', () => {
    const t = devTopology(objects, 'prod', 'dist/prod');
    expect(t.namespace).toBe('prod');
    expect(t.servers.map((s) => s.name)).toEqual(['custom', 'mlserver', 'triton']);
    const [custom, mlserver, triton] = t.servers;
    expect(mlserver).toMatchObject({ replicas: 2, memory: '4Gi', overCommit: 30, mlserver: true });
    expect(mlserver.capabilities).toContain('sklearn');
    expect(mlserver.capabilities.at(-1)).toBe('gpu');
    // Explicit capabilities win over the configuration's; memory comes from the ServerConfig.
    expect(custom).toMatchObject({
      capabilities: ['mlserver', 'sklearn'],
      memory: '300Mi',
      replicas: 1,
      mlserver: true,
    });
    expect(triton).toMatchObject({ mlserver: false, memory: '1000000000', overCommit: 10 });
    expect(t.models.map((m) => m.name)).toEqual(['iris', 'local']);
    expect(t.pipelines).toEqual([{ name: 'fraud', steps: ['iris', 'local'] }]);
    expect(t.experiments).toEqual(['ab']);
    expect(t.objects.every((o) => o.metadata.namespace === 'prod')).toBe(true);
  });

  it('warns about what cannot run locally', () => {
    const t = devTopology(objects, 'prod', 'dist/prod');
    expect(t.warnings).toEqual([
      expect.stringMatching(
        /^server triton \(serverConfig triton\) is not started: mlops dev runs MLServer only/,
      ),
    ]);
    const noServer = devTopology([obj('Model', 'm', 'ns', { storageUri: 'file:///m' })], undefined, 'dist/x');
    expect(noServer.warnings).toEqual([
      expect.stringMatching(/dist\/x declares no Server: its models cannot be placed/),
    ]);
  });

  it('needs --namespace when several are declared, and a declared one', () => {
    expect(() => devTopology(objects, undefined, 'dist/prod')).toThrow(
      'dist/prod declares several namespaces (prod, staging); pick one with --namespace NS',
    );
    expect(() => devTopology(objects, 'dev', 'dist/prod')).toThrow(
      'dist/prod has nothing in namespace dev; its namespaces: prod, staging',
    );
    expect(devTopology(objects.slice(-2), undefined, 'd').namespace).toBe('staging');
  });
});

describe('local copies of object-store models', () => {
  it('reads gs://BUCKET/PATH from DIR/BUCKET/PATH when that folder exists, and leaves the rest', () => {
    const project = join(tmp, 'copies');
    const models = join(project, 'models');
    mkdirSync(join(models, 'seldon-models', 'samples', 'iris'), { recursive: true });
    mkdirSync(join(project, 'secret'), { recursive: true });
    expect(localCopy('gs://seldon-models/samples/iris', models)).toBe(
      join(models, 'seldon-models', 'samples', 'iris'),
    );
    expect(localCopy('s3://seldon-models/samples/iris/', models)).toBe(
      join(models, 'seldon-models', 'samples', 'iris'),
    );
    expect(localCopy('gs://seldon-models/samples/other', models)).toBeUndefined();
    expect(localCopy('gs://seldon-models/../../secret', models)).toBeUndefined();
    expect(localCopy('file:///seldon-models/samples/iris', models)).toBeUndefined();
    expect(localCopy('gs://seldon-models/samples/iris', undefined)).toBeUndefined();

    const iris = obj('Model', 'iris', 'prod', {
      storageUri: 'gs://seldon-models/samples/iris',
      memory: '1Mi',
    });
    const cifar = obj('Model', 'cifar', 'prod', { storageUri: 'gs://seldon-models/samples/cifar' });
    const [mapped, kept] = withLocalModels([iris, cifar], models);
    expect(mapped.spec).toEqual({
      storageUri: `file://${join(models, 'seldon-models', 'samples', 'iris')}`,
      memory: '1Mi',
    });
    expect(kept).toBe(cifar);
    // The objects read are not changed.
    expect((iris.spec as { storageUri: string }).storageUri).toBe('gs://seldon-models/samples/iris');

    expect(resolveModelsDir(undefined, project)).toBe(models);
    expect(resolveModelsDir(undefined, join(tmp, 'empty'))).toBeUndefined();
    expect(resolveModelsDir(models, join(tmp, 'empty'))).toBe(models);
    expect(() => resolveModelsDir('nope', project)).toThrow(
      /--models nope: no such directory; .*npm run models/,
    );
  });

  it('names each model mlops dev cannot run, and why', () => {
    const cwd = join(tmp, 'runnable');
    const objects = [
      obj('Server', 'mlserver', 'ns', { serverConfig: 'mlserver' }),
      obj('Server', 'triton', 'ns', { serverConfig: 'triton' }),
      obj('Model', 'iris', 'ns', { storageUri: 'file:///m/iris', requirements: ['sklearn'] }),
      obj('Model', 'pinned', 'ns', { storageUri: 'file:///m/c', server: 'triton' }),
      obj('Model', 'tf', 'ns', { storageUri: 'file:///m/tf', requirements: ['tensorflow'] }),
      obj('Model', 'odd', 'ns', { storageUri: 'file:///m/odd', requirements: ['quantum'] }),
      obj('Model', 'lost', 'ns', { storageUri: 'file:///m/lost', server: 'gone' }),
      obj('Model', 'remote', 'ns', { storageUri: 'gs://bucket/path/remote', requirements: ['sklearn'] }),
      obj('Model', 'web', 'ns', { storageUri: 'https://example.com/web' }),
    ];
    const topo = devTopology(objects, undefined, 'dist/x');
    expect(Object.fromEntries(unrunnableModels(topo, join(cwd, 'models'), cwd))).toEqual({
      pinned:
        'it needs server triton (Triton Inference Server), which mlops dev does not start (it runs MLServer only)',
      tf: 'its requirements (tensorflow) are met only by server triton (Triton Inference Server), which mlops dev does not start (it runs MLServer only)',
      odd: 'no Server of the app offers its requirements (quantum)',
      lost: 'it is pinned to server gone, which the app does not declare',
      remote:
        'its storageUri gs://bucket/path/remote has no local copy, and the agent fetches object stores only with rclone over the network: put a copy in models/bucket/path/remote, or point storageUri at file://, http:// or https://',
    });
    expect(unrunnableModels(topo, undefined, cwd).get('remote')).toMatch(
      /give a folder of local copies with --models DIR \(it would hold DIR\/bucket\/path\/remote\)/,
    );
  });
});

describe('manifest view', () => {
  it('copies one namespace and follows changes', async () => {
    const src = join(tmp, 'view-src');
    mkdirSync(src, { recursive: true });
    const write = (objs: KubeObject[]) =>
      writeFileSync(join(src, 'all.yaml'), objs.map((o) => YAML.stringify(o)).join('---\n'));
    const a = obj('Model', 'a', 'prod', { storageUri: 'file:///a' });
    write([a, obj('Model', 'b', 'staging', { storageUri: 'file:///b' })]);
    const errors: string[] = [];
    const view = new ManifestView(src, 'prod', join(tmp, 'view-work'), (m) => errors.push(m));
    view.start([a, obj('Model', 'b', 'staging', { storageUri: 'file:///b' })], 50);
    const read = () =>
      YAML.parseAllDocuments(readFileSync(join(view.dir, 'manifests.yaml'), 'utf8')).map(
        (d) => (d.toJS() as KubeObject).metadata.name,
      );
    try {
      expect(read()).toEqual(['a']);
      write([a, obj('Model', 'c', 'prod', { storageUri: 'file:///c' })]);
      await expect.poll(read, { timeout: 3000 }).toEqual(['a', 'c']);
      writeFileSync(join(src, 'all.yaml'), 'kind: [');
      await expect.poll(() => errors.length, { timeout: 3000 }).toBe(1);
      expect(errors[0]).toMatch(/not valid YAML.*keeping the previous objects/);
      expect(read()).toEqual(['a', 'c']);
    } finally {
      view.stop();
    }
  });
});

describe('finding MLServer', () => {
  it('prefers MLSERVER_BIN, then PATH, then the provisioned virtualenv', () => {
    const root = join(tmp, 'mls');
    const exe = (path: string) => {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, '#!/bin/sh\n');
      chmodSync(path, 0o755);
      return path;
    };
    const onPath = exe(join(root, 'bin', 'mlserver'));
    const cache = join(root, 'cache');
    const venv = exe(join(cache, 'mlserver', '1.7.1-py3.11', 'venv', 'bin', 'mlserver'));
    exe(join(cache, 'mlserver', '1.9.0-py3.11', 'venv', 'bin', 'mlserver')); // no stamp: unfinished
    writeFileSync(join(cache, 'mlserver', '1.7.1-py3.11', '.stamp'), '');
    expect(findMlserver({ MLSERVER_BIN: onPath, PATH: '' })).toEqual({ path: onPath, from: 'MLSERVER_BIN' });
    expect(() => findMlserver({ MLSERVER_BIN: join(root, 'missing') })).toThrow(
      /MLSERVER_BIN=.*is not an executable file/,
    );
    expect(findMlserver({ PATH: join(root, 'bin'), MLOPS_CACHE: cache })).toEqual({
      path: onPath,
      from: 'PATH',
    });
    expect(findMlserver({ PATH: '/nonexistent', MLOPS_CACHE: cache })).toEqual({
      path: venv,
      from: 'npm run provision',
    });
    expect(findMlserver({ PATH: '/nonexistent', MLOPS_CACHE: join(root, 'none') })).toBeUndefined();
  });
});

describe('model states', () => {
  it('reports changes of the newest version and when every model has settled', () => {
    const s1 = modelStates({
      models: [
        { name: 'iris', versions: [{ version: 1, state: 'ModelProgressing' }] },
        {
          name: 'wine',
          versions: [
            { version: 2, state: 'ScheduleFailed', reason: 'no server' },
            { version: 1, state: 'ModelAvailable' },
          ],
        },
      ],
    });
    expect(stateChanges(new Map(), s1)).toEqual([
      'model iris: ModelProgressing',
      'model wine: ScheduleFailed (no server)',
    ]);
    expect(settled(['iris', 'wine'], s1)).toBe(false);
    // A model mlops dev cannot run says why next to its state.
    expect(stateChanges(new Map(), s1, 'model', new Map([['wine', 'it needs Triton']]))).toEqual([
      'model iris: ModelProgressing',
      'model wine: ScheduleFailed (no server) — it needs Triton',
    ]);
    const s2 = modelStates({
      models: [
        { name: 'iris', versions: [{ version: 1, state: 'ModelAvailable' }] },
        { name: 'wine', versions: [{ version: 2, state: 'ScheduleFailed', reason: 'no server' }] },
      ],
    });
    expect(stateChanges(s1, s2)).toEqual(['model iris: ModelAvailable']);
    expect(settled(['iris', 'wine'], s2)).toBe(true);
    expect(settled(['iris', 'missing'], s2)).toBe(false);
  });

  it('knows when every agent it started has registered', () => {
    const started = new Map([
      ['mlserver', 2],
      ['small', 1],
    ]);
    const status = (replicas: number) => ({
      models: [],
      servers: [
        { name: 'mlserver', replicas: Array.from({ length: replicas }, (_, idx) => ({ idx })) },
        { name: 'small', replicas: [{ idx: 0 }] },
      ],
    });
    expect(agentsConnected(status(1), started)).toBe(false);
    expect(agentsConnected(status(2), started)).toBe(true);
    expect(agentsConnected({ models: [] }, started)).toBe(false);
    expect(agentsConnected({ models: [] }, new Map())).toBe(true);
  });

  it('reports pipeline readiness changes with the reason and the step that waits', () => {
    const waiting = {
      name: 'flow',
      ready: false,
      reason: 'ModelsProgressing',
      message: 'step "b": model "b" is ModelProgressing',
    };
    const p1 = pipelineStates({ models: [], pipelines: [waiting, { name: 'echo', ready: true }] });
    expect(stateChanges(new Map(), p1, 'pipeline')).toEqual([
      'pipeline echo: Ready',
      'pipeline flow: ModelsProgressing (step "b": model "b" is ModelProgressing)',
    ]);
    const p2 = pipelineStates({
      models: [],
      pipelines: [
        { name: 'flow', ready: true },
        { name: 'echo', ready: true },
      ],
    });
    expect(stateChanges(p1, p2, 'pipeline')).toEqual(['pipeline flow: Ready']);
    expect(stateChanges(p2, p2, 'pipeline')).toEqual([]);
  });
});

describe('try-it commands', () => {
  it('builds a request from the model metadata, or falls back to iris-like features', () => {
    expect(
      sampleRequest({
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [-1, 3] },
          { name: 'flag', datatype: 'BOOL', shape: [1] },
        ],
      }),
    ).toEqual({
      inputs: [
        { name: 'x', shape: [1, 3], datatype: 'FP32', data: [0, 0, 0] },
        { name: 'flag', shape: [1], datatype: 'BOOL', data: [false] },
      ],
    });
    expect(sampleRequest({ name: 'iris' }).inputs[0]).toMatchObject({ name: 'predict', shape: [1, 4] });
    expect(sampleRequest(undefined).inputs).toHaveLength(1);
  });

  it('quotes for the shell and names the gateway when it is not the default', () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    const [curl, infer] = tryCommands('http://127.0.0.1:9000', 'iris', { inputs: [] });
    expect(curl).toBe(
      `curl -s http://127.0.0.1:9000/v2/models/iris/infer -H 'content-type: application/json' -d '{"inputs":[]}'`,
    );
    expect(infer).toBe(`npx mlops infer iris '{"inputs":[]}'`);
    expect(tryCommands('http://127.0.0.1:9100', 'iris', {})[1]).toMatch(/--gateway http:\/\/127.0.0.1:9100$/);
  });
});

describe('log lines', () => {
  it('renders the runtime JSON logs compactly and passes other lines through', () => {
    const line = JSON.stringify({
      level: 30,
      time: 1,
      pid: 2,
      hostname: 'h',
      component: 'agent',
      msg: 'model loaded',
      model: 'iris_1',
      n: [1],
    });
    expect(formatLogLine('agent m-0', 12, line)).toBe('agent m-0    | INFO  model loaded model=iris_1 n=[1]');
    expect(formatLogLine('mlserver', 8, 'INFO: started')).toBe('mlserver | INFO: started');
    expect(formatLogLine('x', 1, '{not json')).toBe('x | {not json');
  });

  it('splits chunks into lines', () => {
    const lines: string[] = [];
    const s = new LineSplitter();
    s.push('a\nb', (l) => lines.push(l));
    s.push('c\r\nd', (l) => lines.push(l));
    s.flush((l) => lines.push(l));
    expect(lines).toEqual(['a', 'bc', 'd']);
  });
});

describe('supervisor', () => {
  it('prefixes output, reports a dying child with its last lines, restarts it with back-off, and stops process groups', async () => {
    const out: string[] = [];
    const deaths: [string, Death, string[]][] = [];
    const sup = new Supervisor(
      (l) => out.push(l),
      (c: Child, death) => deaths.push([c.name, death, c.tail()]),
      6,
    );
    const dying = sup.start({
      name: 'dies',
      command: 'sh',
      args: ['-c', 'echo starting; echo boom >&2; exit 3'],
    });
    await expect.poll(() => deaths.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    expect(deaths[0][0]).toBe('dies');
    expect(deaths[0][1]).toEqual({ code: 3, restartInMs: 500 });
    expect(deaths[0][2].sort()).toEqual(['dies   | boom', 'dies   | starting']);
    // Started again after the first death; the next death waits twice as long.
    expect(deaths[1][1]).toEqual({ code: 3, restartInMs: 1000 });
    expect(dying.restarts).toBeGreaterThanOrEqual(1);
    expect(out).toContain('dies   | starting');
    // A child that started a grandchild: stopping the group ends both, and is not a death.
    const pidFile = join(tmp, 'grandchild.pid');
    const parent = sup.start({
      name: 'tree',
      command: 'sh',
      args: ['-c', `sleep 60 & echo $! > ${pidFile}; echo ready; wait`],
    });
    await expect.poll(() => out.includes('tree   | ready')).toBe(true);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    const deathsBeforeStop = deaths.length;
    await sup.stopAll(2000);
    expect(parent.isRunning()).toBe(false);
    await expect.poll(() => alive(grandchild), { timeout: 3000 }).toBe(false);
    // Stopping is no death, and nothing is started again afterwards.
    await new Promise((r) => setTimeout(r, 1200));
    expect(deaths).toHaveLength(deathsBeforeStop);
    expect(dying.isRunning()).toBe(false);
  });
});

describe('mlops dev command line', () => {
  it('refuses to start without manifests, naming the fix', () => {
    const cwd = join(tmp, 'cli');
    mkdirSync(join(cwd, 'dist', 'a'), { recursive: true });
    mkdirSync(join(cwd, 'dist', 'b'), { recursive: true });
    const r = spawnSync(process.execPath, [bin, 'dev'], { cwd, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('dev: dist holds several apps (a, b); pick one with --app NAME\n');
    const p = spawnSync(process.execPath, [bin, 'dev', '--app', 'a', '--port', 'x'], {
      cwd,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/--port "x" is not a TCP port/);
  });
});
