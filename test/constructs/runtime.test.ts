import { ApiObject, App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Model } from '../../src/constructs/model.ts';
import { Pipeline } from '../../src/constructs/pipeline.ts';
import { Runtime, type RuntimeProps } from '../../src/constructs/runtime.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { synthesizeApp, synthesizeObjects } from '../../src/synth/synthesize.ts';
import { type Json, problems } from './helpers.ts';

const VERSION = (await import('../../package.json', { with: { type: 'json' } })).default.version;

function build(props: RuntimeProps = {}, extra?: (env: Environment) => void) {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'prod', { namespace: 'prod' });
  new Runtime(env, 'runtime', props);
  extra?.(env);
  return { app, env };
}

function objects(app: App, target: 'runtime' | 'seldon' = 'runtime'): Json[] {
  return synthesizeObjects(app, { target }).map((o) => o.manifest);
}

function find(list: Json[], kind: string, name: string): Json {
  const found = list.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name}; have ${list.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

const podOf = (o: Json): Json => o.spec.template.spec;

function expectRestricted(pod: Json, where: string): void {
  expect(pod.securityContext.runAsNonRoot, where).toBe(true);
  expect(pod.securityContext.seccompProfile, where).toEqual({ type: 'RuntimeDefault' });
  for (const c of pod.containers) {
    const sc = c.securityContext;
    expect(sc.allowPrivilegeEscalation, `${where}/${c.name}`).toBe(false);
    expect(sc.capabilities.drop, `${where}/${c.name}`).toEqual(['ALL']);
    expect(sc.readOnlyRootFilesystem, `${where}/${c.name}`).toBe(true);
    expect(sc.runAsNonRoot, `${where}/${c.name}`).toBe(true);
    for (const k of ['requests', 'limits']) {
      expect(c.resources[k].cpu, `${where}/${c.name} ${k}.cpu`).toBeTruthy();
      expect(c.resources[k].memory, `${where}/${c.name} ${k}.memory`).toBeTruthy();
    }
    expect(c.readinessProbe.httpGet, `${where}/${c.name} readiness`).toBeTruthy();
    expect(c.livenessProbe.httpGet, `${where}/${c.name} liveness`).toBeTruthy();
    // A probe on a named port must name one of the container's ports.
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      const port = probe.httpGet.port;
      if (typeof port === 'string') expect(c.ports.map((p: Json) => p.name)).toContain(port);
    }
    expect(c.image, `${where}/${c.name}`).toMatch(/:[^:/]+$/);
    expect(c.image).not.toMatch(/:latest$/);
    // Root is read-only: /tmp is an emptyDir.
    expect(c.volumeMounts.map((m: Json) => m.mountPath)).toContain('/tmp');
  }
  expect(pod.volumes.find((v: Json) => v.name === 'tmp').emptyDir).toBeTruthy();
}

describe('Runtime', () => {
  it('synthesizes the scheduler with least-privilege RBAC and the only mounted token', () => {
    const list = objects(build().app);
    const sa = find(list, 'ServiceAccount', 'mlops-scheduler');
    expect(sa.automountServiceAccountToken).toBe(false);
    const role = find(list, 'Role', 'mlops-scheduler');
    expect(role.metadata.namespace).toBe('prod');
    expect(role.rules).toEqual([
      {
        apiGroups: ['mlops.seldon.io'],
        resources: ['experiments', 'models', 'pipelines', 'servers'],
        verbs: ['list', 'watch'],
      },
      {
        apiGroups: ['mlops.seldon.io'],
        resources: ['experiments/status', 'models/status', 'pipelines/status', 'servers/status'],
        verbs: ['patch'],
      },
      { apiGroups: ['mlops.seldon.io'], resources: ['models/scale', 'servers/scale'], verbs: ['patch'] },
      { apiGroups: ['apps'], resources: ['statefulsets/scale'], verbs: ['get', 'patch'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['mlops-scheduler'],
        verbs: ['get', 'update'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    ]);
    const rules = role.rules.flatMap((r: Json) => [...r.verbs, ...r.resources, ...r.apiGroups]);
    expect(rules).not.toContain('*');
    const binding = find(list, 'RoleBinding', 'mlops-scheduler');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'mlops-scheduler',
    });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'mlops-scheduler' }]);
    // Reviewing agents' and gateways' tokens: the built-in auth-delegator role, cluster-wide by nature.
    const review = find(list, 'ClusterRoleBinding', 'prod-mlops-scheduler-tokenreview');
    expect(review.metadata.namespace).toBeUndefined();
    expect(review.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'system:auth-delegator',
    });
    expect(review.subjects).toEqual([{ kind: 'ServiceAccount', name: 'mlops-scheduler', namespace: 'prod' }]);

    const deploy = find(list, 'Deployment', 'mlops-scheduler');
    expect(deploy.spec.replicas).toBe(2);
    expect(deploy.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    const pod = podOf(deploy);
    expectRestricted(pod, 'scheduler');
    expect(pod.serviceAccountName).toBe('mlops-scheduler');
    expect(pod.automountServiceAccountToken).toBe(true);
    const [c] = pod.containers;
    expect(c.image).toBe(`ghcr.io/cdk8s-mlops/mlops-runtime:${VERSION}`);
    expect(c.args).toEqual([
      'scheduler',
      '--kubernetes',
      '--port',
      '9004',
      '--health-port',
      '9999',
      '--leader-lease',
      'mlops-scheduler',
    ]);
    expect(c.env).toEqual([
      {
        name: 'POD_NAMESPACE',
        valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
      },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'health' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/live', port: 'health' });
    expect(c.ports).toEqual([
      { name: 'grpc', containerPort: 9004, protocol: 'TCP' },
      { name: 'health', containerPort: 9999, protocol: 'TCP' },
    ]);
    expect(pod.securityContext.runAsUser).toBe(10001);

    const svc = find(list, 'Service', 'mlops-scheduler');
    expect(svc.spec.selector).toEqual(deploy.spec.selector.matchLabels);
    expect(deploy.spec.template.metadata.labels).toMatchObject(deploy.spec.selector.matchLabels);
    expect(svc.spec.ports).toEqual([
      { name: 'grpc', port: 9004, protocol: 'TCP', targetPort: 'grpc', appProtocol: 'kubernetes.io/h2c' },
    ]);
    // Every pod resolvable, so clients find the one leader that listens.
    expect(svc.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    const pdb = find(list, 'PodDisruptionBudget', 'mlops-scheduler');
    expect(pdb.spec).toMatchObject({
      maxUnavailable: 1,
      selector: { matchLabels: deploy.spec.selector.matchLabels },
    });
  });

  it('a single scheduler replica: still through the Lease, no disruption budget; a bad count is a problem', () => {
    const one = objects(build({ schedulerReplicas: 1 }).app);
    expect(find(one, 'Deployment', 'mlops-scheduler').spec.replicas).toBe(1);
    expect(
      one.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'mlops-scheduler'),
    ).toBeUndefined();
    expect(problems(build({ schedulerReplicas: 0 }).app)).toEqual([
      expect.stringMatching(/^prod\/runtime schedulerReplicas: /),
    ]);
  });

  it('synthesizes the gateway: Service on 9000 (REST) and 9001 (gRPC), HPA owning replicas, PDB', () => {
    const list = objects(build().app);
    const deploy = find(list, 'Deployment', 'mlops-gateway');
    expect(deploy.spec.replicas).toBeUndefined();
    const pod = podOf(deploy);
    expectRestricted(pod, 'gateway');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBeUndefined();
    const [c] = pod.containers;
    expect(c.args).toEqual([
      'gateway',
      '--http-port',
      '9000',
      '--grpc-port',
      '9001',
      '--scheduler',
      'mlops-scheduler:9004',
      // 1/20 of the 512Mi limit for request bodies in flight, 5/8 for the heap.
      '--max-inflight-bytes',
      String(25 * 1024 * 1024),
      '--scheduler-token-file',
      '/var/run/secrets/mlops/scheduler/token',
    ]);
    expect(c.env).toEqual([{ name: 'NODE_OPTIONS', value: '--max-old-space-size=320' }]);
    // A token for the scheduler's audience only, bound to the pod: no API server token is mounted.
    expect(pod.volumes).toContainEqual({
      name: 'scheduler-token',
      projected: {
        sources: [
          { serviceAccountToken: { audience: 'mlops-scheduler', expirationSeconds: 3600, path: 'token' } },
        ],
      },
    });
    expect(c.volumeMounts).toContainEqual({
      name: 'scheduler-token',
      mountPath: '/var/run/secrets/mlops/scheduler',
      readOnly: true,
    });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    const svc = find(list, 'Service', 'mlops-gateway');
    expect(svc.spec.selector).toEqual(deploy.spec.selector.matchLabels);
    expect(svc.spec.ports.map((p: Json) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 9000, 'http'],
      ['grpc', 9001, 'grpc'],
    ]);
    const hpa = find(list, 'HorizontalPodAutoscaler', 'mlops-gateway');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'mlops-gateway' },
      minReplicas: 1,
      maxReplicas: 3,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    });
    const pdb = find(list, 'PodDisruptionBudget', 'mlops-gateway');
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: deploy.spec.selector.matchLabels },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
  });

  it("sizes the gateway's in-flight bodies and heap from its memory limit", () => {
    const resources = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } };
    const [c] = podOf(
      find(objects(build({ gateway: { resources } }).app), 'Deployment', 'mlops-gateway'),
    ).containers;
    const at = c.args.indexOf('--max-inflight-bytes');
    expect(c.args[at + 1]).toBe(String(102 * 1024 * 1024));
    expect(c.env).toEqual([{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1280' }]);
  });

  it('a fixed gateway size writes replicas and no autoscaler', () => {
    const list = objects(build({ gateway: { replicas: 2 } }).app);
    expect(find(list, 'Deployment', 'mlops-gateway').spec.replicas).toBe(2);
    expect(list.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  it('with Kafka: dataflow engine, Kafka ConfigMap, the pipelines it runs, and the gateway wired to it', () => {
    const { app } = build(
      {
        kafka: {
          bootstrapServers: ['kafka-0.kafka:9093', 'kafka-1.kafka:9093'],
          partitions: 3,
          replicationFactor: 3,
        },
      },
      (env) => {
        const m = new Model(env, 'iris', { storageUri: 'gs://m/iris', requirements: ['sklearn'] });
        const p = new Pipeline(env, 'flow', {});
        p.addStep(m);
      },
    );
    const list = objects(app);
    const kafka = find(list, 'ConfigMap', 'mlops-kafka');
    expect(kafka.data).toEqual({
      MLOPS_KAFKA_BROKERS: 'kafka-0.kafka:9093,kafka-1.kafka:9093',
      MLOPS_KAFKA_PARTITIONS: '3',
      MLOPS_KAFKA_REPLICATION_FACTOR: '3',
      MLOPS_KAFKA_TOPIC_PREFIX: 'seldon',
    });
    // Pipelines are watched on the API, not shipped in a ConfigMap the pods would restart for.
    expect(list.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name)).toEqual(['mlops-kafka']);
    expect(find(list, 'Role', 'mlops-dataflow').rules).toEqual([
      { apiGroups: ['mlops.seldon.io'], resources: ['pipelines'], verbs: ['list', 'watch'] },
    ]);
    expect(find(list, 'RoleBinding', 'mlops-dataflow')).toMatchObject({
      roleRef: { kind: 'Role', name: 'mlops-dataflow' },
      subjects: [{ kind: 'ServiceAccount', name: 'mlops-dataflow' }],
    });
    expect(find(list, 'ServiceAccount', 'mlops-dataflow').automountServiceAccountToken).toBe(false);
    const deploy = find(list, 'StatefulSet', 'mlops-dataflow');
    const pod = podOf(deploy);
    expectRestricted(pod, 'dataflow');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBe('mlops-dataflow');
    const [c] = pod.containers;
    expect(c.args).toEqual([
      'dataflow',
      '--kubernetes',
      '--namespace',
      'prod',
      '--topic-prefix',
      '$(MLOPS_KAFKA_TOPIC_PREFIX)',
      '--partitions',
      '$(MLOPS_KAFKA_PARTITIONS)',
      '--replication-factor',
      '$(MLOPS_KAFKA_REPLICATION_FACTOR)',
      '--inference',
      'mlops-gateway:9001',
      '--http-port',
      '9010',
      '--grpc-port',
      '9011',
      '--instance-id',
      '$(POD_NAME)',
    ]);
    expect(c.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ]);
    expect(deploy.spec.serviceName).toBe('mlops-dataflow');
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'mlops-kafka' } }]);
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    const hash = deploy.spec.template.metadata.annotations['mlops.cdk8s.io/config-hash'];
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    const gateway = podOf(find(list, 'Deployment', 'mlops-gateway')).containers[0];
    expect(gateway.args.slice(-4, -2)).toEqual(['--pipeline-gateway', 'mlops-dataflow:9010:9011']);
    expect(find(list, 'Service', 'mlops-dataflow').spec.selector).toEqual(deploy.spec.selector.matchLabels);
    // Egress to the brokers' port only.
    const np = find(list, 'NetworkPolicy', 'mlops-dataflow');
    expect(np.spec.egress).toContainEqual({ ports: [{ protocol: 'TCP', port: 9093 }] });
    // And to the Kubernetes API, for the watch.
    expect(np.spec.egress).toContainEqual({
      ports: [
        { protocol: 'TCP', port: 443 },
        { protocol: 'TCP', port: 6443 },
      ],
    });
  });

  it('the config hash follows the Kafka settings only: a pipeline change restarts no dataflow pod', () => {
    const hashWith = (step: string, partitions = 1) => {
      const { app } = build({ kafka: { bootstrapServers: ['k:9092'], partitions } }, (env) => {
        const p = new Pipeline(env, 'flow', {});
        p.addStep(new Model(env, step, { storageUri: 'gs://m', requirements: ['sklearn'] }));
      });
      return find(objects(app), 'StatefulSet', 'mlops-dataflow').spec.template.metadata.annotations[
        'mlops.cdk8s.io/config-hash'
      ];
    };
    expect(hashWith('a')).toMatch(/^[0-9a-f]{16}$/);
    expect(hashWith('a')).toBe(hashWith('b'));
    expect(hashWith('a', 1)).not.toBe(hashWith('a', 2));
  });

  it('Strimzi KafkaTopics for every topic of the pipelines, including steps added after the Runtime', () => {
    const { app, env } = build(
      {
        kafka: {
          bootstrapServers: ['k:9092'],
          topicPrefix: 'Acme_ml',
          replicationFactor: 3,
          strimziTopics: { clusterName: 'main' },
        },
      },
      (env) => {
        const p = new Pipeline(env, 'flow', {});
        p.addStep(new Model(env, 'iris', { storageUri: 'gs://m', requirements: ['sklearn'] }));
      },
    );
    const list = objects(app);
    // In the order they were declared: the Runtime's, then each pipeline's and each step's.
    const topics = list
      .filter((o) => o.kind === 'KafkaTopic')
      .sort((x, y) => (x.spec.topicName < y.spec.topicName ? -1 : 1));
    expect(topics.map((t) => t.spec.topicName)).toEqual([
      'Acme_ml.prod.dataflow.flow.state',
      'Acme_ml.prod.errors.errors',
      'Acme_ml.prod.model.iris.inputs',
      'Acme_ml.prod.model.iris.outputs',
      'Acme_ml.prod.pipeline.flow.inputs',
      'Acme_ml.prod.pipeline.flow.outputs',
    ]);
    const first = topics[0];
    expect(first.apiVersion).toBe('kafka.strimzi.io/v1beta2');
    expect(first.metadata.name).toBe('acme-ml.prod.dataflow.flow.state');
    expect(first.metadata.labels['strimzi.io/cluster']).toBe('main');
    expect(first.spec).toEqual({ topicName: 'Acme_ml.prod.dataflow.flow.state', partitions: 1, replicas: 3 });
    // Rendering again (a second synth of the same app) does not add them twice.
    expect(objects(app).filter((o) => o.kind === 'KafkaTopic')).toHaveLength(6);
    expect(env.toJson().filter((o: Json) => o.kind === 'KafkaTopic')).toHaveLength(6);
  });

  it('declares the KafkaTopics when the pipelines are constructed, whichever comes first; validating adds nothing', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'prod' });
    const early = new Pipeline(env, 'early', {});
    early.addStep(new Model(env, 'a', { storageUri: 'gs://m', requirements: ['sklearn'] }));
    new Runtime(env, 'runtime', {
      kafka: { bootstrapServers: ['k:9092'], strimziTopics: { clusterName: 'c' } },
    });
    new Pipeline(env, 'late', {}).addStep(
      new Model(env, 'b', { storageUri: 'gs://m', requirements: ['sklearn'] }),
    );
    const declared = () =>
      env.node
        .findAll()
        .filter((c) => ApiObject.isApiObject(c) && c.kind === 'KafkaTopic')
        .map((c) => (c as ApiObject).toJson().spec.topicName)
        .sort();
    const before = declared();
    expect(before).toEqual([
      'seldon.prod.dataflow.early.state',
      'seldon.prod.dataflow.late.state',
      'seldon.prod.errors.errors',
      'seldon.prod.model.a.inputs',
      'seldon.prod.model.a.outputs',
      'seldon.prod.model.b.inputs',
      'seldon.prod.model.b.outputs',
      'seldon.prod.pipeline.early.inputs',
      'seldon.prod.pipeline.early.outputs',
      'seldon.prod.pipeline.late.inputs',
      'seldon.prod.pipeline.late.outputs',
    ]);
    const count = app.node.findAll().length;
    for (const c of app.node.findAll()) c.node.validate();
    expect(app.node.findAll()).toHaveLength(count);
    expect(declared()).toEqual(before);
  });

  it('NetworkPolicies: default deny for every runtime pod, DNS, and the allowed flows', () => {
    const list = objects(build({ kafka: { bootstrapServers: ['k:9092'] } }).app);
    const all = { 'app.kubernetes.io/part-of': 'cdk8s-mlops', 'app.kubernetes.io/instance': 'mlops' };
    expect(find(list, 'NetworkPolicy', 'mlops-default-deny').spec).toEqual({
      podSelector: { matchLabels: all },
      policyTypes: ['Ingress', 'Egress'],
    });
    expect(find(list, 'NetworkPolicy', 'mlops-allow-dns').spec.egress).toEqual([
      {
        ports: [
          { protocol: 'TCP', port: 53 },
          { protocol: 'UDP', port: 53 },
        ],
      },
    ]);
    for (const d of list.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
      expect(d.spec.template.metadata.labels).toMatchObject(all);
    }
    const component = (c: string) => ({
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/name': 'mlops-runtime',
          'app.kubernetes.io/component': c,
          'app.kubernetes.io/instance': 'mlops',
        },
      },
    });
    const scheduler = find(list, 'NetworkPolicy', 'mlops-scheduler').spec;
    expect(scheduler.ingress).toEqual([
      { from: [component('server'), component('gateway')], ports: [{ protocol: 'TCP', port: 9004 }] },
      // Health and metrics: Prometheus only (the kubelet's probes need no rule).
      {
        from: [
          { namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
        ],
        ports: [{ protocol: 'TCP', port: 9999 }],
      },
    ]);
    const gateway = find(list, 'NetworkPolicy', 'mlops-gateway').spec;
    expect(gateway.egress).toEqual([
      {
        to: [component('server')],
        ports: [
          { protocol: 'TCP', port: 9001 },
          { protocol: 'TCP', port: 9501 },
        ],
      },
      { to: [component('scheduler')], ports: [{ protocol: 'TCP', port: 9004 }] },
      {
        to: [component('dataflow')],
        ports: [
          { protocol: 'TCP', port: 9010 },
          { protocol: 'TCP', port: 9011 },
        ],
      },
    ]);
    expect(find(list, 'NetworkPolicy', 'mlops-dataflow').spec.ingress).toEqual([
      {
        from: [component('gateway')],
        ports: [
          { protocol: 'TCP', port: 9010 },
          { protocol: 'TCP', port: 9011 },
        ],
      },
    ]);
  });

  it('the seldon target keeps only the custom resources', () => {
    const { app } = build(
      { kafka: { bootstrapServers: ['k:9092'], strimziTopics: { clusterName: 'c' } } },
      (env) => {
        new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
        const p = new Pipeline(env, 'flow', {});
        p.addStep(new Model(env, 'iris', { storageUri: 'gs://m', requirements: ['sklearn'] }));
      },
    );
    const kinds = objects(app, 'seldon').map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds.sort()).toEqual(['Model/iris', 'Pipeline/flow', 'Server/mlserver']);
  });

  it('is deterministic: the same app gives the same files', () => {
    const files = () =>
      synthesizeApp(
        build({ kafka: { bootstrapServers: ['k:9092'], strimziTopics: { clusterName: 'c' } } }, (env) => {
          new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, replicas: 2 });
        }).app,
      );
    const a = files();
    expect([...a.keys()]).toContain('apps_StatefulSet_prod_mlserver.yaml');
    expect(files()).toEqual(a);
  });

  it('reports bad settings with the field and the fix', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'prod' });
    new Runtime(env, 'runtime', {
      image: 'example.org/runtime:latest',
      gateway: { replicas: 2, minReplicas: 1, targetCpuUtilization: 150 },
      kafka: { bootstrapServers: ['bad host'] },
      modelCache: { size: '10XB' },
    });
    new Runtime(env, 'again', {});
    new Runtime(new Environment(app, 'other', { namespace: 'other' }), 'runtime', { name: 'My_Runtime' });
    expect(problems(app)).toEqual([
      'other/runtime name: prefixes the runtime\'s object names, and "My_Runtime-default-deny" must consist of lower-case letters, digits and "-", and start and end with a letter or digit',
      'prod/again (scope): namespace "prod" already has a Runtime; one runtime serves a whole namespace',
      'prod/runtime gateway.replicas: a fixed replica count and autoscaling bounds (minReplicas/maxReplicas) exclude each other',
      'prod/runtime gateway.targetCpuUtilization: is not a percentage',
      'prod/runtime image: uses the mutable tag "latest"',
      'prod/runtime kafka.bootstrapServers[0]: is not host:port',
      'prod/runtime modelCache.size: is not a Kubernetes quantity',
    ]);
  });

  it('pipelines without Kafka settings are an error naming the pipelines', () => {
    const { app } = build({}, (env) => {
      const p = new Pipeline(env, 'flow', {});
      p.addStep(new Model(env, 'iris', { storageUri: 'gs://m', requirements: ['sklearn'] }));
    });
    expect(problems(app)).toEqual([
      'prod/runtime kafka: pipelines run over Kafka, and this namespace has 1 (flow) but the Runtime has no Kafka settings',
    ]);
    expect(() => synthesizeObjects(app)).toThrow(/set `kafka: \{ bootstrapServers/);
  });

  it('a custom image and name prefix the objects and the server sidecars', () => {
    const { app } = build(
      { name: 'rt', image: 'registry.example.com/rt:1.2.3', imagePullPolicy: 'Always' },
      (env) => {
        new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
      },
    );
    const list = objects(app);
    expect(podOf(find(list, 'Deployment', 'rt-scheduler')).containers[0].image).toBe(
      'registry.example.com/rt:1.2.3',
    );
    const agent = podOf(find(list, 'StatefulSet', 'mlserver')).containers.find(
      (c: Json) => c.name === 'agent',
    );
    expect(agent.image).toBe('registry.example.com/rt:1.2.3');
    expect(agent.imagePullPolicy).toBe('Always');
    expect(agent.env).toContainEqual({ name: 'MLOPS_SCHEDULER_ADDRESS', value: 'rt-scheduler:9004' });
  });
});

describe('Strimzi topics against the dataflow engine', () => {
  it('declare every topic the engine reads or writes: joins, triggers, external inputs', async () => {
    const { planPipeline } = await import('../../src/runtime/dataflow/plan.ts');
    const { dataflowStateTopic, modelTopic } = await import('../../src/spec/topics.ts');
    const { app } = build(
      { kafka: { bootstrapServers: ['k:9092'], strimziTopics: { clusterName: 'c' } } },
      (env) => {
        const model = (name: string) =>
          new Model(env, name, { storageUri: `gs://m/${name}`, requirements: ['sklearn'] });
        const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(model);
        const first = new Pipeline(env, 'first', { inputTensors: ['x', 'go'], output: { steps: [c] } });
        first.addStep(a, { inputs: [first.inputs('x')] });
        first.addStep(b, { inputs: [first.inputs('x')], triggers: [first.inputs('go')] });
        first.addStep(c, { inputs: [a.outputs(), b.outputs()] });
        const second = new Pipeline(env, 'second', {
          input: { externalInputs: [first.outputs(), first.step(b).outputs()] },
          output: { steps: [d] },
        });
        second.addStep(d);
      },
    );
    const list = synthesizeObjects(app).map((o) => o.manifest as Json);
    const declared = new Set(list.filter((o) => o.kind === 'KafkaTopic').map((o) => o.spec.topicName));
    const naming = { prefix: 'seldon', namespace: 'prod' };
    const used = new Set<string>();
    for (const p of list.filter((o) => o.kind === 'Pipeline')) {
      const plan = planPipeline(p.metadata.name, p.spec, naming);
      for (const t of [...plan.topics, plan.inputTopic, plan.outputTopic, plan.errorsTopic]) used.add(t);
      for (const step of plan.steps) used.add(step.sink);
      for (const step of p.spec.steps) used.add(modelTopic(naming, step.name, 'inputs'));
      used.add(dataflowStateTopic(naming, p.metadata.name));
    }
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((t) => !declared.has(t))).toEqual([]);
  });
});
