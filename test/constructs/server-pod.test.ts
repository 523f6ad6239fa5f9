import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import type { ContainerSpec, PodSpec, ServerPodSpec } from '../../src/constructs/pod-spec.ts';
import { Runtime } from '../../src/constructs/runtime.ts';
import { Server, type ServerProps } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { validateAgainstCrd } from '../../src/spec/crd-check.ts';
import { openApiSchemaFor } from '../../src/spec/crd-schemas.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import { type Json, problems } from './helpers.ts';

function app(props: Partial<ServerProps>): App {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'prod', { namespace: 'prod' });
  new Server(env, 's', { serverConfig: ServerConfig.MLSERVER, ...props });
  new Runtime(env, 'runtime', {});
  return app;
}

/** The Server custom resource and the runtime's StatefulSet of one MLServer server. */
function build(props: Partial<ServerProps>) {
  const list = synthesizeObjects(app(props)).map((o) => o.manifest as Json);
  const cr = list.find((o) => o.kind === 'Server' && o.metadata.name === 's');
  const sts = list.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 's');
  // The Server resource passes its CRD's schema strictly (no field the API server would prune).
  expect(validateAgainstCrd(cr).map((v) => `${v.pointer} ${v.message}`)).toEqual([]);
  return { pod: cr.spec.podSpec as Json, sts: sts?.spec.template.spec as Json };
}

const mlserver = (pod: Json): Json => pod.containers.find((c: Json) => c.name === 'mlserver');

// Object.keys of these records are the type's keys: the compiler insists on every key, and no other.
const serverPodKeys: Record<keyof ServerPodSpec, true> = {
  activeDeadlineSeconds: true,
  affinity: true,
  automountServiceAccountToken: true,
  containers: true,
  dnsConfig: true,
  dnsPolicy: true,
  enableServiceLinks: true,
  hostAliases: true,
  hostIPC: true,
  hostNetwork: true,
  hostPID: true,
  hostname: true,
  imagePullSecrets: true,
  initContainers: true,
  nodeName: true,
  nodeSelector: true,
  overhead: true,
  preemptionPolicy: true,
  priority: true,
  priorityClassName: true,
  readinessGates: true,
  restartPolicy: true,
  runtimeClassName: true,
  schedulerName: true,
  securityContext: true,
  serviceAccountName: true,
  setHostnameAsFQDN: true,
  shareProcessNamespace: true,
  subdomain: true,
  terminationGracePeriodSeconds: true,
  tolerations: true,
  topologySpreadConstraints: true,
  volumes: true,
};

const containerFields: Record<keyof ContainerSpec, true> = {
  args: true,
  command: true,
  env: true,
  envFrom: true,
  image: true,
  imagePullPolicy: true,
  lifecycle: true,
  livenessProbe: true,
  name: true,
  ports: true,
  readinessProbe: true,
  resizePolicy: true,
  resources: true,
  restartPolicy: true,
  securityContext: true,
  startupProbe: true,
  stdin: true,
  stdinOnce: true,
  terminationMessagePath: true,
  terminationMessagePolicy: true,
  tty: true,
  volumeDevices: true,
  volumeMounts: true,
  workingDir: true,
};

describe('typed pod specs', () => {
  it('reject misspelt fields at compile time', () => {
    const typo: ServerPodSpec = {
      // @ts-expect-error: the field is `tolerations`
      toleration: [{ key: 'gpu', operator: 'Exists' }],
    };
    const container: ContainerSpec = {
      name: 'mlserver',
      // @ts-expect-error: the field is `image`
      imag: 'x',
    };
    const config: PodSpec = {
      containers: [container],
      // @ts-expect-error: the field is `nodeSelector`
      nodeSelectors: { pool: 'gpu' },
    };
    const unknownOperator: ServerProps['tolerations'] = [
      // @ts-expect-error: Kubernetes knows only Equal and Exists
      { key: 'gpu', operator: 'Exist' },
    ];
    // @ts-expect-error: Seldon's Server override does not take `os` (a ServerConfig does)
    const os: ServerPodSpec = { os: { name: 'linux' } };
    expect([typo, config, unknownOperator, os]).toHaveLength(4);
  });

  it('take quantities and ports as plain JSON, as Seldon YAML writes them', () => {
    const spec: ServerPodSpec = {
      containers: [{ name: 'mlserver', resources: { limits: { 'nvidia.com/gpu': 1, memory: '2Gi' } } }],
      overhead: { cpu: '250m' },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }],
    };
    expect(build({ podSpec: spec }).pod).toEqual(spec);
  });

  it('cover exactly the pod fields of the Server CRD, and containers its container fields', () => {
    const podSchema = (openApiSchemaFor('Server') as Json).properties.spec.properties.podSpec;
    expect(Object.keys(serverPodKeys).sort()).toEqual(Object.keys(podSchema.properties).sort());
    const containerKeys = Object.keys(podSchema.properties.containers.items.properties);
    expect(Object.keys(containerFields).sort()).toEqual(containerKeys.sort());
  });
});

describe('Server pod props', () => {
  it('reach both the Server resource and the StatefulSet', () => {
    const props: Partial<ServerProps> = {
      memory: '4Gi',
      memoryLimit: '6Gi',
      cpu: '500m',
      cpuLimit: 4,
      gpu: 2,
      nodeSelector: { 'node.example.com/pool': 'gpu' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'In', values: ['a100'] }] }],
          },
        },
      },
    };
    expect(problems(app(props))).toEqual([]);
    const { pod, sts } = build(props);
    for (const p of [pod, sts]) {
      expect(mlserver(p).resources).toMatchObject({
        requests: { memory: '4Gi', cpu: '500m' },
        limits: { memory: '6Gi', cpu: 4, 'nvidia.com/gpu': 2 },
      });
      expect(p.nodeSelector).toEqual({ 'node.example.com/pool': 'gpu' });
      expect(p.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
      expect(p.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).toBeDefined();
    }
    // The runtime's spreading of replicas over nodes stays next to the declared node affinity.
    expect(sts.affinity.podAntiAffinity).toBeDefined();
  });

  it('take any extended resource as an accelerator', () => {
    const { pod, sts } = build({ gpu: { resource: 'amd.com/gpu', count: 1 } });
    expect(mlserver(pod).resources).toEqual({ limits: { 'amd.com/gpu': 1 } });
    expect(mlserver(sts).resources.limits['amd.com/gpu']).toBe(1);
  });

  it('keep the runtime CPU defaults on the right side of a declared request or limit', () => {
    expect(mlserver(build({ cpu: 4 }).sts).resources).toMatchObject({
      requests: { cpu: 4 },
      limits: { cpu: 4 },
    });
    expect(mlserver(build({ cpuLimit: '500m' }).sts).resources).toMatchObject({
      requests: { cpu: '500m' },
      limits: { cpu: '500m' },
    });
    expect(mlserver(build({}).sts).resources).toMatchObject({ requests: { cpu: '1' }, limits: { cpu: '2' } });
  });

  it('merge with what podSpec declares, and report conflicts', () => {
    const { pod, sts } = build({
      podSpec: { nodeSelector: { zone: 'a' }, tolerations: [{ key: 'spot', operator: 'Exists' }] },
      nodeSelector: { pool: 'gpu' },
      tolerations: [{ key: 'gpu', operator: 'Exists' }],
    });
    for (const p of [pod, sts]) {
      expect(p.nodeSelector).toEqual({ zone: 'a', pool: 'gpu' });
      expect(p.tolerations.map((t: Json) => t.key)).toEqual(['spot', 'gpu']);
    }
    const conflicting = app({
      podSpec: {
        nodeSelector: { zone: 'a' },
        tolerations: [{ key: 'spot', operator: 'Exists' }],
        affinity: { podAffinity: {} },
        containers: [{ name: 'mlserver', resources: { limits: { cpu: '2' } } }],
      },
      nodeSelector: { zone: 'b', pool: 'gpu' },
      tolerations: [{ key: 'gpu', operator: 'Exists' }],
      affinity: { nodeAffinity: {} },
      cpuLimit: 3,
    });
    expect(problems(conflicting)).toEqual([
      'prod/s affinity: conflicts with podSpec.affinity',
      'prod/s cpuLimit: conflicts with podSpec container "mlserver" limiting 2',
      'prod/s nodeSelector.zone: conflicts with podSpec.nodeSelector, which selects "a"',
    ]);
  });

  it('report invalid values as findings', () => {
    const invalid = app({
      cpu: 'lots',
      gpu: { resource: 'gpu', count: 1.5 },
      nodeSelector: { 'bad key/x/y': 'ok', pool: 'not ok!' },
      tolerations: [
        { key: 'a', operator: 'Exists', value: 'v' },
        { operator: 'Equal', value: 'v' },
        { key: 'b', effect: 'NoSchedule', tolerationSeconds: 60 },
      ],
    });
    expect(problems(invalid)).toEqual([
      'prod/s cpu: is not a Kubernetes quantity',
      'prod/s gpu.count: must be a whole number',
      'prod/s gpu.resource: needs a domain prefix, as in amd.com/gpu',
      'prod/s nodeSelector.bad key/x/y: is not a label key: it has more than one "/"',
      'prod/s nodeSelector.pool: is not a label value',
      'prod/s tolerations[0]: has a value with the operator Exists',
      'prod/s tolerations[1]: has no key, which only the operator Exists allows',
      'prod/s tolerations[2]: has tolerationSeconds without the effect NoExecute',
    ]);
  });

  it('report wrong shapes from untyped callers instead of throwing', () => {
    const untyped = { gpu: 'one', nodeSelector: 'gpu', tolerations: { key: 'gpu' }, affinity: 1 } as unknown;
    expect(problems(app(untyped as Partial<ServerProps>))).toEqual([
      'prod/s affinity: must be an object, not a number',
      'prod/s gpu: is neither a count nor an extended resource',
      'prod/s nodeSelector: must be an object of string values, not a string',
      'prod/s tolerations: must be a list, not an object',
    ]);
  });

  it('report negative counts, kubernetes.io resources and requests above limits', () => {
    expect(problems(app({ gpu: -1 }))).toEqual(['prod/s gpu: is outside 0 to 2147483647']);
    expect(problems(app({ gpu: { resource: 'example.kubernetes.io/gpu', count: 1 } }))).toEqual([
      'prod/s gpu.resource: is in the kubernetes.io domain, which extended resources may not use',
    ]);
    expect(problems(app({ cpu: 2, cpuLimit: '1500m', memory: '2Gi', memoryLimit: '1Gi' }))).toEqual([
      'prod/s cpuLimit: is below the cpu request, 2',
      'prod/s memoryLimit: is below the memory request, 2Gi',
    ]);
    expect(problems(app({ memoryLimit: '512Mi' }))).toEqual([
      "prod/s memoryLimit: is below the memory request, the configuration's 953.67Mi",
    ]);
  });
});
