// What each component's registry serves is exactly the catalogue in spec/metrics.ts (which the
// dashboard, the adapter rules and docs/metrics.md are built from), and the Seldon metrics carry
// Seldon's labels and values.
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../src/runtime/agent/metrics.ts';
import { DataflowMetrics } from '../../src/runtime/dataflow/metrics.ts';
import { GatewayMetrics } from '../../src/runtime/gateway/metrics.ts';
import { SchedulerMetrics } from '../../src/runtime/scheduler/metrics.ts';
import { ALL_METRICS, type MetricSource } from '../../src/spec/metrics.ts';

const DEFAULT_METRICS = /^(process_|nodejs_)/;

async function served(registry: Registry) {
  const json = await registry.getMetricsAsJSON();
  return json
    .filter((m) => !DEFAULT_METRICS.test(m.name))
    .map((m) => ({ name: m.name, type: String(m.type) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const catalogue = (source: MetricSource) =>
  ALL_METRICS.filter((m) => m.source === source)
    .map((m) => ({ name: m.name, type: m.type }))
    .sort((a, b) => a.name.localeCompare(b.name));

function agentMetrics(): AgentMetrics {
  const m = new AgentMetrics({ server: 'mlserver', replica: 2 });
  m.observe({ bytes: 1000, withOvercommitBytes: 1100 }, () => [
    { name: 'iris_1', bytes: 100, inMemory: true },
    { name: 'wine_3', bytes: 300, inMemory: false },
  ]);
  return m;
}

describe('the metric catalogue', () => {
  it('lists exactly what every component serves', async () => {
    const scheduler = new SchedulerMetrics();
    scheduler.observe({
      models: new Map(),
      servers: new Map(),
      experiments: new Map(),
      pipelines: new Map(),
    });
    expect(await served(scheduler.registry)).toEqual(catalogue('scheduler'));
    expect(await served(agentMetrics().registry)).toEqual(catalogue('agent'));
    expect(await served(new GatewayMetrics().registry)).toEqual(catalogue('gateway'));
    expect(await served(new DataflowMetrics({ processMetrics: true }).registry)).toEqual(
      catalogue('dataflow'),
    );
  });

  it("serves Seldon's agent metrics with Seldon's labels and values", async () => {
    const m = agentMetrics();
    m.inferred({
      model: 'iris',
      internal: 'iris_1',
      protocol: 'rest',
      method: 'post',
      code: '200',
      seconds: 0.02,
    });
    m.inferred({
      model: 'iris',
      internal: 'iris_1',
      protocol: 'grpc',
      method: 'grpc',
      code: '5',
      seconds: 0.01,
    });
    m.evicted();
    const text = await m.registry.metrics();
    const replica = 'server="mlserver",server_replica="2"';
    for (const line of [
      `seldon_model_infer_total{${replica},model="iris",model_internal="iris_1",method_type="rest",code="200"} 1`,
      `seldon_model_infer_total{${replica},model="iris",model_internal="iris_1",method_type="grpc",code="NotFound"} 1`,
      `seldon_model_infer_seconds_total{${replica},model="iris",model_internal="iris_1",method_type="rest",code="200"} 0.02`,
      `seldon_model_aggregate_infer_total{${replica},method_type="grpc"} 1`,
      `seldon_model_infer_api_seconds_bucket{le="0.025",${replica},method="post",code="200"} 1`,
      `mlops_agent_infer_seconds_bucket{le="0.01",model="iris"} 1`,
      `seldon_cache_evict_count{${replica}} 1`,
      `seldon_cache_miss_count{${replica}} 0`,
      `seldon_loaded_model_gauge{${replica},model_internal="wine_3"} 1`,
      `seldon_loaded_model_memory_bytes_gauge{${replica},model_internal="iris_1"} 100`,
      `seldon_loaded_model_memory_bytes_gauge{${replica},model_internal="wine_3"} 0`,
      `seldon_evicted_model_memory_bytes_gauge{${replica},model_internal="wine_3"} 300`,
      `seldon_server_replica_memory_capacity_bytes_gauge{${replica}} 1000`,
      `seldon_server_replica_memory_capacity_overcommit_bytes_gauge{${replica}} 1100`,
      'mlops_agent_inference_requests_total{model="iris_1",protocol="grpc",code="5"} 1',
    ])
      expect(text).toContain(line);
  });

  it("serves Seldon's pipeline gateway metrics", async () => {
    const m = new DataflowMetrics();
    m.pipelineCall('flowers', 'rest', { status: 200, grpcCode: 0 }, 0.03);
    m.pipelineCall('flowers', 'grpc', { status: 504, grpcCode: 4 }, 0.5);
    const text = await m.registry.metrics();
    for (const line of [
      'seldon_pipeline_infer_total{server="pipeline-gateway",pipeline="flowers",method_type="rest",code="200"} 1',
      'seldon_pipeline_infer_total{server="pipeline-gateway",pipeline="flowers",method_type="grpc",code="DeadlineExceeded"} 1',
      'seldon_pipeline_aggregate_infer_seconds_total{server="pipeline-gateway",method_type="grpc"} 0.5',
      'seldon_pipeline_infer_api_seconds_bucket{le="0.05",server="pipeline-gateway",pipeline="flowers",method="post",code="200"} 1',
    ])
      expect(text).toContain(line);
  });

  it('is listed whole in docs/metrics.md, each metric with its type and labels', () => {
    const page = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    for (const m of ALL_METRICS) {
      const labels = m.labels.map((l) => `\`${l}\``).join(', ') || '—';
      expect(page, m.name).toContain(`| \`${m.name}\` | ${m.type} | ${labels} |`);
    }
  });
});
