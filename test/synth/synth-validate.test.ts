// Synthesis never writes what `mlops validate` would report: the same checks run on the output
// before it is written, and the output of an accepted app validates clean.
import { ApiObject, App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Runtime } from '../../src/constructs/runtime.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig, type ServerConfigProps } from '../../src/constructs/server-config.ts';
import { parseManifests } from '../../src/review/manifests.ts';
import { validateManifests } from '../../src/review/validate/validate.ts';
import { SynthError, synthesizeApp } from '../../src/synth/synthesize.ts';
import { everyOptionApp } from '../constructs/runtime-every-option.ts';

/** What `mlops validate` (default options) reports on an output folder. */
function validate(files: ReadonlyMap<string, string>): string[] {
  const manifests = [...files].flatMap(([file, text]) => parseManifests(text, file));
  return validateManifests(manifests).map((f) => `${f.object} ${f.path}: [${f.check}] ${f.message}`);
}

/** The findings synthesis refuses an app with, as `path field: message` lines. */
function refusal(app: App): string[] {
  try {
    synthesizeApp(app);
  } catch (err) {
    if (err instanceof SynthError) return err.findings.map((f) => `${f.path} ${f.field}: ${f.message}`);
    throw err;
  }
  return [];
}

const probes = (port: number) => ({
  readinessProbe: { httpGet: { path: '/ready', port } },
  livenessProbe: { httpGet: { path: '/live', port } },
});
const resources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } };

/** A custom configuration as a platform team writes it: no security contexts at all. */
function customConfigApp(
  podSpecExtra: Record<string, unknown> = {},
  policy: Pick<ServerConfigProps, 'hardenPodSpec' | 'acceptPolicy'> = {},
): App {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'prod', { namespace: 'prod' });
  const config = new ServerConfig(env, 'vllm', {
    ...policy,
    capabilities: ['vllm'],
    podSpec: {
      containers: [
        { name: 'agent', image: 'example.org/agent:2.8.0', resources, ...probes(9008) },
        { name: 'vllm', image: 'example.org/vllm:0.5.0', resources, ...probes(9000) },
      ],
      ...podSpecExtra,
    },
  });
  new Server(env, 'llm', { serverConfig: config });
  return app;
}

describe('synthesis = validation', () => {
  it('writes a custom ServerConfig that validate accepts', () => {
    const files = synthesizeApp(customConfigApp());
    expect(files.has('mlops.seldon.io_ServerConfig_prod_vllm.yaml')).toBe(true);
    expect(validate(files)).toEqual([]);
  });

  it('refuses a Model pinned to a Server the output lacks, naming object, field and fix', () => {
    const app = customConfigApp();
    new ApiObject(app.node.findChild('prod'), 'raw', {
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Model',
      metadata: { name: 'raw', namespace: 'prod' },
      spec: { storageUri: 'gs://m', server: 'nope' },
    });
    let error: SynthError | undefined;
    try {
      synthesizeApp(app);
    } catch (err) {
      error = err as SynthError;
    }
    expect(error).toBeInstanceOf(SynthError);
    expect(error?.findings).toEqual([
      {
        path: 'prod/raw',
        field: 'spec.server',
        message: expect.stringMatching(
          /^Model prod\/raw \(mlops\.seldon\.io_Model_prod_raw\.yaml\): pinned to Server "nope" is not in this set .*\[reference\/missing-server\]$/,
        ),
        fix: expect.stringContaining('add it, or mark it declared elsewhere'),
      },
    ]);
  });

  it('refuses a pod spec that breaks the workload policy, with every finding', () => {
    const app = customConfigApp({ hostNetwork: true });
    expect(refusal(app)).toEqual([
      expect.stringMatching(
        /^prod\/vllm\/Resource spec\.podSpec\.hostNetwork: ServerConfig prod\/vllm .*forbidden by the restricted Pod Security Standard.*\[policy\/pss-host-namespaces\]$/,
      ),
    ]);
  });

  it('refuses a misspelt field deep inside a pod spec', () => {
    const app = customConfigApp({ tolerations: [{ keyy: 'gpu', operator: 'Exists' }] });
    expect(refusal(app)).toEqual([
      expect.stringMatching(
        /^prod\/vllm\/Resource spec\.podSpec\.tolerations\[0\]\.keyy: .*unknown field "keyy"/,
      ),
    ]);
  });

  it('writes a Runtime with Strimzi topics that validate accepts, schemas known for every kind', () => {
    const files = synthesizeApp(everyOptionApp());
    expect([...files.keys()].some((f) => f.startsWith('kafka.strimzi.io_KafkaTopic_'))).toBe(true);
    expect(validate(files)).toEqual([]);
  });

  it('refuses a KafkaTopic its shipped schema rejects', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'prod' });
    new Runtime(env, 'runtime', {
      kafka: { bootstrapServers: ['kafka:9092'], strimziTopics: { clusterName: 'main' } },
    });
    new ApiObject(env, 'topic', {
      apiVersion: 'kafka.strimzi.io/v1beta2',
      kind: 'KafkaTopic',
      metadata: { name: 'extra' },
      spec: { partitions: 0, replica: 3 },
    });
    expect(refusal(app)).toEqual([
      expect.stringMatching(
        /^prod\/topic spec\.partitions: KafkaTopic prod\/extra .*must be >= 1 \[schema\/crd\]$/,
      ),
      expect.stringMatching(/^prod\/topic spec\.replica: .*unknown field "replica"/),
    ]);
  });

  it('refuses a template kept as written unless each check it fails is accepted with a reason', () => {
    const asWritten = customConfigApp({}, { hardenPodSpec: false });
    expect(
      refusal(asWritten)
        .map((l) => /\[policy\/([a-z-]+)\]$/.exec(l)?.[1])
        .sort(),
    ).toEqual([
      'pss-capabilities',
      'pss-capabilities',
      'pss-privilege-escalation',
      'pss-privilege-escalation',
      'pss-run-as-non-root',
      'pss-run-as-non-root',
      'pss-seccomp',
      'pss-seccomp',
    ]);
    const reason = 'the vendor image needs its own user; tracked in OPS-12';
    const accepted = customConfigApp(
      {},
      {
        hardenPodSpec: false,
        acceptPolicy: {
          'pss-capabilities': reason,
          'pss-privilege-escalation': reason,
          'pss-run-as-non-root': reason,
          'pss-seccomp': reason,
        },
      },
    );
    const files = synthesizeApp(accepted);
    expect(files.get('mlops.seldon.io_ServerConfig_prod_vllm.yaml')).toContain(
      `review.cdk8s-mlops.io/accept-pss-seccomp: ${reason}`,
    );
    expect(validate(files)).toEqual([]);
  });

  it('refuses an acceptance that outlived its reason: the check no longer fires', () => {
    const app = customConfigApp({}, { acceptPolicy: { probes: 'the server has no health endpoint' } });
    expect(refusal(app)).toEqual([
      expect.stringMatching(
        /^prod\/vllm\/Resource metadata\.annotations\.review\.cdk8s-mlops\.io\/accept-probes: .*probes is accepted but no longer fires; remove the annotation \[policy\/acceptance\]$/,
      ),
    ]);
  });
});
