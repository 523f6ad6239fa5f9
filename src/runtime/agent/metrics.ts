import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The agent's Prometheus metrics, on a registry of its own. */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly loads = new Counter({
    name: 'mlops_agent_model_loads_total',
    help: 'Model loads requested by the scheduler, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly unloads = new Counter({
    name: 'mlops_agent_model_unloads_total',
    help: 'Model unloads requested by the scheduler, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly evictions = new Counter({
    name: 'mlops_agent_model_evictions_total',
    help: 'Models evicted from server memory to make room (they stay registered on disk)',
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'mlops_agent_model_reloads_total',
    help: 'Evicted models loaded again because a request needed them',
    registers: [this.registry],
  });
  readonly reloadSeconds = new Histogram({
    name: 'mlops_agent_model_reload_seconds',
    help: 'Time to bring an evicted model back into memory (including evicting others)',
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly downloads = new Counter({
    name: 'mlops_agent_artifact_downloads_total',
    help: 'Artifact downloads, by result: success, or why they failed (not-found, access-denied, bad-secret, transient, ...)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly downloadSeconds = new Histogram({
    name: 'mlops_agent_artifact_download_seconds',
    help: 'Time to download an artifact into the cache, retries included',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });
  readonly capacityBytes = new Gauge({
    name: 'mlops_agent_memory_capacity_bytes',
    help: 'Inference server memory the agent fills with models',
    registers: [this.registry],
  });
  readonly inMemoryBytes = new Gauge({
    name: 'mlops_agent_memory_in_use_bytes',
    help: 'Memory of the models currently loaded on the inference server',
    registers: [this.registry],
  });
  readonly registeredBytes = new Gauge({
    name: 'mlops_agent_memory_registered_bytes',
    help: 'Memory of every registered model, in memory or evicted (may exceed capacity: over-commit)',
    registers: [this.registry],
  });
  readonly models = new Gauge({
    name: 'mlops_agent_models',
    help: 'Registered models by residency',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'mlops_agent_inference_requests_total',
    help: 'Inference requests proxied, by model and protocol',
    labelNames: ['model', 'protocol', 'code'] as const,
    registers: [this.registry],
  });
}
