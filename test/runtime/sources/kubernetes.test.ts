import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesSource } from '../../../src/runtime/sources/kubernetes.ts';
import type { MlopsResource } from '../../../src/spec/types.ts';

const NS = 'prod';
const GROUP_PATH = `/apis/mlops.seldon.io/v1alpha1/namespaces/${NS}/`;

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: Record<string, unknown>;
}

interface Write {
  method: string;
  path: string;
  contentType: string;
  body: unknown;
}

/**
 * A Kubernetes API server stand-in: lists and watches (newline-delimited JSON events) the four
 * kinds in one namespace, records every write, and answers watches as scripted.
 */
class FakeApiServer {
  private rv = 100;
  readonly items = new Map<string, Obj[]>();
  /** Open watch streams per plural. */
  readonly watches = new Map<string, http.ServerResponse>();
  /** resourceVersion each watch request started from, per plural. */
  readonly watchedFrom = new Map<string, string[]>();
  readonly lists = new Map<string, number>();
  /** Status codes to answer the next watch requests of a plural with (then streams again). */
  readonly failWatch = new Map<string, number[]>();
  readonly writes: Write[] = [];
  /** StatefulSets that exist, with their replicas. */
  readonly statefulSets = new Map<string, number>();
  statusCode = 200;
  private readonly server = http.createServer((req, res) => this.serve(req, res));

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  object(kind: string, name: string, spec: Record<string, unknown>): Obj {
    return {
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind,
      metadata: { name, namespace: NS, resourceVersion: String(++this.rv) },
      spec,
    };
  }

  /** Sends a watch event on the open watch of `plural`. */
  event(plural: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: Obj): void {
    const stream = this.watches.get(plural);
    if (!stream) throw new Error(`no open watch on ${plural}`);
    stream.write(`${JSON.stringify({ type, object: obj })}\n`);
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method !== 'GET') {
        const text = Buffer.concat(chunks).toString();
        this.writes.push({
          method: req.method ?? '',
          path: url.pathname,
          contentType: req.headers['content-type'] ?? '',
          body: text ? JSON.parse(text) : undefined,
        });
      }
      const sts = /^\/apis\/apps\/v1\/namespaces\/[^/]+\/statefulsets\/([^/]+)\/scale$/.exec(url.pathname);
      if (sts) {
        const replicas = this.statefulSets.get(sts[1]);
        if (replicas === undefined) return json(404, { kind: 'Status', code: 404, reason: 'NotFound' });
        return json(200, { kind: 'Scale', spec: { replicas } });
      }
      if (!url.pathname.startsWith(GROUP_PATH)) return json(404, { kind: 'Status', code: 404 });
      const [plural, , sub] = url.pathname.slice(GROUP_PATH.length).split('/');
      if (req.method !== 'GET') return json(this.statusCode, { kind: 'Status', code: this.statusCode, sub });
      if (url.searchParams.get('watch') === 'true') {
        this.watchedFrom.set(plural, [
          ...(this.watchedFrom.get(plural) ?? []),
          url.searchParams.get('resourceVersion') ?? '',
        ]);
        const fail = this.failWatch.get(plural)?.shift();
        if (fail) return json(fail, { kind: 'Status', code: fail });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        this.watches.set(plural, res);
        return;
      }
      this.lists.set(plural, (this.lists.get(plural) ?? 0) + 1);
      json(200, {
        kind: 'List',
        items: this.items.get(plural) ?? [],
        metadata: { resourceVersion: String(this.rv) },
      });
    });
  }
}

const until = async (what: string, fn: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

function recorder() {
  const events: string[] = [];
  return {
    events,
    handler: {
      upsert: (r: MlopsResource) =>
        events.push(`upsert ${r.kind}/${r.metadata.name} ${JSON.stringify(r.spec)}`),
      remove: (kind: string, ns: string, name: string) => events.push(`remove ${kind} ${ns}/${name}`),
      synced: () => events.push('synced'),
    },
  };
}

let api: FakeApiServer;
let source: KubernetesSource;

beforeEach(async () => {
  api = new FakeApiServer();
  const server = await api.listen();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // Plain HTTP to a local server needs skipTLSVerify in this client.
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  source = new KubernetesSource(kc, pino({ level: 'silent' }), NS);
});
afterEach(async () => {
  await source.stop();
  await api.close();
});

describe('KubernetesSource', () => {
  it('lists servers first, then models, pipelines and experiments, and then reports synced', async () => {
    api.items.set('models', [api.object('Model', 'iris', { storageUri: 'gs://a' })]);
    api.items.set('servers', [api.object('Server', 'mlserver', { serverConfig: 'mlserver' })]);
    api.items.set('pipelines', [api.object('Pipeline', 'p', { steps: [{ name: 'iris' }] })]);
    const r = recorder();
    await source.start(r.handler);
    expect(r.events).toEqual([
      'upsert Server/mlserver {"serverConfig":"mlserver"}',
      'upsert Model/iris {"storageUri":"gs://a"}',
      'upsert Pipeline/p {"steps":[{"name":"iris"}]}',
      'synced',
    ]);
    expect([...api.lists.keys()]).toEqual(['servers', 'models', 'pipelines', 'experiments']);
  });

  it('delivers watched additions, changes and deletions', async () => {
    const r = recorder();
    await source.start(r.handler);
    await until('model watch', () => api.watches.has('models'));
    expect(api.watchedFrom.get('models')).toEqual(['100']);
    r.events.length = 0;
    const wine = api.object('Model', 'wine', { storageUri: 'gs://w' });
    api.event('models', 'ADDED', wine);
    const changed = {
      ...wine,
      metadata: { ...wine.metadata, resourceVersion: '201' },
      spec: { storageUri: 'gs://w2' },
    };
    api.event('models', 'MODIFIED', changed);
    api.event('models', 'DELETED', changed);
    await until('three events', () => r.events.length === 3);
    api.event('experiments', 'ADDED', api.object('Experiment', 'ab', { candidates: [] }));
    await until('four events', () => r.events.length === 4);
    expect(r.events).toEqual([
      'upsert Model/wine {"storageUri":"gs://w"}',
      'upsert Model/wine {"storageUri":"gs://w2"}',
      `remove Model ${NS}/wine`,
      'upsert Experiment/ab {"candidates":[]}',
    ]);
  });

  it('after a failed watch, watches again from the last version seen and keeps delivering', async () => {
    const r = recorder();
    await source.start(r.handler);
    await until('model watch', () => api.watches.has('models'));
    api.event('models', 'ADDED', api.object('Model', 'a', {}));
    await until('a', () => r.events.includes('upsert Model/a {}'));
    // The watch ends and the next attempt is refused: the informer reports an error and stops.
    api.failWatch.set('models', [500]);
    api.watches.get('models')?.end();
    api.watches.delete('models');
    await until('the watch retried after the refusal', () => api.watches.has('models'), 5000);
    expect(api.watchedFrom.get('models')).toEqual(['100', '101', '101']);
    api.event('models', 'ADDED', api.object('Model', 'b', {}));
    await until('b', () => r.events.includes('upsert Model/b {}'));
  }, 10_000);

  it('re-lists when the watch is too old (410) and removes what disappeared meanwhile', async () => {
    api.items.set('models', [api.object('Model', 'old', {}), api.object('Model', 'kept', {})]);
    const r = recorder();
    await source.start(r.handler);
    await until('model watch', () => api.watches.has('models'));
    r.events.length = 0;
    api.items.set('models', [api.items.get('models')?.[1] as Obj, api.object('Model', 'new', {})]);
    api.failWatch.set('models', [410]);
    api.watches.get('models')?.end();
    await until('re-listed', () => r.events.length === 2);
    expect(r.events).toEqual([`remove Model ${NS}/old`, 'upsert Model/new {}']);
    expect(api.lists.get('models')).toBe(2);
  });

  it('writes status with a merge patch to the status subresource', async () => {
    await source.writeModelStatus(NS, 'iris', { replicas: 2, availableReplicas: 1 });
    await source.writeServerStatus(NS, 'mlserver', { loadedModels: 3, replicas: 1, selector: 's' });
    await source.writeExperimentStatus(NS, 'ab', { conditions: [] });
    await source.writePipelineStatus(NS, 'flow', { observedGeneration: 2 });
    expect(api.writes).toEqual([
      {
        method: 'PATCH',
        path: `${GROUP_PATH}models/iris/status`,
        contentType: 'application/merge-patch+json',
        body: { status: { replicas: 2, availableReplicas: 1 } },
      },
      {
        method: 'PATCH',
        path: `${GROUP_PATH}servers/mlserver/status`,
        contentType: 'application/merge-patch+json',
        body: { status: { loadedModels: 3, replicas: 1, selector: 's' } },
      },
      {
        method: 'PATCH',
        path: `${GROUP_PATH}experiments/ab/status`,
        contentType: 'application/merge-patch+json',
        body: { status: { conditions: [] } },
      },
      {
        method: 'PATCH',
        path: `${GROUP_PATH}pipelines/flow/status`,
        contentType: 'application/merge-patch+json',
        body: { status: { observedGeneration: 2 } },
      },
    ]);
    api.statusCode = 500;
    await expect(source.writeModelStatus(NS, 'iris', {})).rejects.toThrow();
  });

  it('scales through the scale subresources, a Server also through its StatefulSet', async () => {
    expect(await source.scale('Model', NS, 'iris', 3)).toBe('scaled');
    expect(await source.scale('Server', NS, 'mlserver', 2)).toBe('missing');
    api.statefulSets.set('mlserver', 2);
    expect(await source.scale('Server', NS, 'mlserver', 2)).toBe('scaled');
    const replicas = { spec: { replicas: 3 } };
    expect(api.writes.map((w) => [w.path, w.contentType, w.body])).toEqual([
      [`${GROUP_PATH}models/iris/scale`, 'application/merge-patch+json', replicas],
      [`${GROUP_PATH}servers/mlserver/scale`, 'application/merge-patch+json', { spec: { replicas: 2 } }],
      [
        `/apis/apps/v1/namespaces/${NS}/statefulsets/mlserver/scale`,
        'application/merge-patch+json',
        { spec: { replicas: 2 } },
      ],
      [`${GROUP_PATH}servers/mlserver/scale`, 'application/merge-patch+json', { spec: { replicas: 2 } }],
      [
        `/apis/apps/v1/namespaces/${NS}/statefulsets/mlserver/scale`,
        'application/merge-patch+json',
        { spec: { replicas: 2 } },
      ],
    ]);
    expect(await source.serverPods(NS, 'mlserver')).toBe(2);
    expect(await source.serverPods(NS, 'other')).toBeUndefined();
  });
});
