import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Runtime, type RuntimeProps } from '../../src/constructs/runtime.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import { type Json, problems } from './helpers.ts';

function build(props: RuntimeProps) {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'prod', { namespace: 'prod' });
  new Runtime(env, 'runtime', { kafka: { bootstrapServers: ['kafka:9092'] }, ...props });
  new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
  return app;
}

/** Every runtime container (scheduler, gateway, dataflow, agent sidecars) by name. */
function runtimeContainers(app: App): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const { manifest } of synthesizeObjects(app, { target: 'runtime' })) {
    const o = manifest as Json;
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') continue;
    for (const c of o.spec.template.spec.containers as Json[])
      if (c.image.includes('mlops-runtime')) out[`${o.metadata.name}/${c.name}`] = c;
  }
  return out;
}

const envOf = (c: Json) => Object.fromEntries((c.env ?? []).map((e: Json) => [e.name, e.value]));

describe('Runtime tracing (Seldon tracingConfig)', () => {
  it('points every runtime container at the collector with the ratio, and lets the pods reach it', () => {
    const app = build({ tracing: { endpoint: 'http://otel.observability:4318', ratio: 0.1 } });
    const containers = runtimeContainers(app);
    expect(Object.keys(containers).sort()).toEqual([
      'mlops-dataflow/dataflow',
      'mlops-gateway/gateway',
      'mlops-scheduler/scheduler',
      'mlserver/agent',
    ]);
    for (const [name, c] of Object.entries(containers)) {
      expect(envOf(c), name).toMatchObject({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel.observability:4318',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      });
    }
    const policy = synthesizeObjects(app, { target: 'runtime' })
      .map((o) => o.manifest)
      .find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'mlops-allow-otlp');
    expect(policy?.spec).toEqual({
      podSelector: {
        matchLabels: { 'app.kubernetes.io/instance': 'mlops', 'app.kubernetes.io/part-of': 'cdk8s-mlops' },
      },
      policyTypes: ['Egress'],
      egress: [{ ports: [{ protocol: 'TCP', port: 4318 }] }],
    });
  });

  it('adds nothing without tracing', () => {
    const app = build({});
    for (const c of Object.values(runtimeContainers(app)))
      expect(envOf(c)).not.toHaveProperty('OTEL_EXPORTER_OTLP_ENDPOINT');
    const names = synthesizeObjects(app, { target: 'runtime' }).map((o) => o.manifest.metadata.name);
    expect(names).not.toContain('mlops-allow-otlp');
  });

  it('reports an endpoint that is not OTLP/HTTP and a ratio outside 0..1, with the fix', () => {
    const found = problems(build({ tracing: { endpoint: 'otel:4317', ratio: 1.5 } }));
    expect(found).toEqual([
      expect.stringMatching(
        /^prod\/runtime tracing\.endpoint: .*uses otel, but traces are sent over OTLP\/HTTP/,
      ),
      expect.stringMatching(/^prod\/runtime tracing\.ratio: .*is not a number from 0 to 1/),
    ]);
  });
});
