import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { dataflowStateTopic, type TopicNaming } from '../../spec/topics.ts';
import type { PipelineResource, PipelineSpec } from '../../spec/types.ts';
import type { Bus } from '../bus/bus.ts';
import { PipelineEngine } from './engine.ts';
import type { DataflowMetrics } from './metrics.ts';
import type { ModelClient } from './model-client.ts';
import type { ModelGateway } from './model-gateway.ts';
import type { PipelineGateway } from './pipeline-gateway.ts';
import { type PipelinePlan, planPipeline } from './plan.ts';

/** What runs in this process: any of the three dataflow roles. */
export interface DataflowRoles {
  /** Runs the pipelines' engines; with `models`, pipelines that can run inline do. */
  engines: boolean;
  models?: ModelClient;
  modelGateway?: ModelGateway;
  pipelineGateway?: PipelineGateway;
}

interface Running {
  version: string;
  spec: PipelineSpec;
  plan: PipelinePlan;
  engine?: PipelineEngine;
}

/**
 * Follows the set of Pipelines as it changes, without restarting anything it does not have to:
 * a new pipeline gets an engine and then takes calls; a changed one moves to its new version (in
 * place when it runs inline: requests already running finish on the old plan, the next batch
 * takes the new one; otherwise the old engine is sealed and drained, its requests under way
 * finishing on the old version, and the new engine resumes from the committed position, so
 * requests held back meanwhile run on the new one; a pipeline whose steps travel over topics
 * keeps them there until the process restarts); a
 * deleted one stops taking calls, then its engine stops and, when its spec asks, its topics go.
 * The other pipelines' engines and consumers are never touched. Changes apply one at a time.
 */
export class LivePipelines {
  private readonly running = new Map<string, Running>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: Bus,
    private readonly naming: TopicNaming,
    private readonly roles: DataflowRoles,
    private readonly logger: Logger,
    private readonly metrics: DataflowMetrics,
  ) {}

  /** Names of the pipelines running now. */
  get names(): string[] {
    return [...this.running.keys()].sort();
  }

  /** The version (a digest of the spec) each pipeline runs. */
  version(name: string): string | undefined {
    return this.running.get(name)?.version;
  }

  /** Makes the running set equal to `pipelines`; resolves once every change took effect. */
  apply(pipelines: readonly PipelineResource[]): Promise<void> {
    const wanted = new Map(pipelines.map((p) => [p.metadata.name, p.spec]));
    this.queue = this.queue.then(() => this.reconcile(wanted));
    return this.queue;
  }

  /** Stops every pipeline (topics are kept). */
  async stop(): Promise<void> {
    await this.queue;
    for (const [name, r] of this.running) {
      await this.roles.pipelineGateway?.remove(name);
      await r.engine?.stop();
    }
    this.running.clear();
  }

  private async reconcile(wanted: Map<string, PipelineSpec>): Promise<void> {
    for (const [name, r] of [...this.running]) {
      if (!wanted.has(name)) await this.guard(name, 'delete', () => this.remove(name, r));
    }
    for (const [name, spec] of wanted) {
      const r = this.running.get(name);
      if (!r) await this.guard(name, 'add', () => this.add(name, spec));
      else if (r.version !== versionOf(spec))
        await this.guard(name, 'change', () => this.change(name, r, spec));
    }
    await this.roles.modelGateway?.setModels(this.topicModels());
  }

  /** One pipeline's failure (a bad spec, a broker error) is reported and leaves the others alone. */
  private async guard(name: string, what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger.error({ pipeline: name, err: (err as Error).message }, `pipeline ${what} failed`);
    }
  }

  private async add(name: string, spec: PipelineSpec): Promise<void> {
    const plan = planPipeline(name, spec, this.naming);
    const engine = await this.startEngine(plan);
    this.running.set(name, { version: versionOf(spec), spec, plan, engine });
    // Calls are taken only once an engine reads the input.
    await this.roles.pipelineGateway?.add(name);
    this.logger.info({ pipeline: name, version: versionOf(spec), inline: engine?.inline }, 'pipeline added');
  }

  private async change(name: string, r: Running, spec: PipelineSpec): Promise<void> {
    const plan = planPipeline(name, spec, this.naming);
    let engine = r.engine;
    if (engine && !(await engine.update(plan))) {
      // A new version: requests under way finish on this engine while new ones wait, uncommitted,
      // for the next, which resumes where this one committed. One whose steps travel over topics
      // keeps them there.
      const inline = engine.inline;
      await engine.seal();
      await engine.stop();
      engine = await this.startEngine(plan, inline);
    }
    this.running.set(name, { version: versionOf(spec), spec, plan, engine });
    this.logger.info(
      { pipeline: name, version: versionOf(spec), inline: engine?.inline },
      'pipeline changed',
    );
  }

  private async remove(name: string, r: Running): Promise<void> {
    await this.roles.pipelineGateway?.remove(name);
    await r.engine?.stop();
    this.running.delete(name);
    if (r.spec.dataflow?.cleanTopicsOnDelete) {
      await this.bus.deleteTopics([
        r.plan.inputTopic,
        r.plan.outputTopic,
        dataflowStateTopic(this.naming, name),
      ]);
    }
    this.logger.info(
      { pipeline: name, topicsDeleted: r.spec.dataflow?.cleanTopicsOnDelete ?? false },
      'pipeline deleted',
    );
  }

  private async startEngine(plan: PipelinePlan, inline = true): Promise<PipelineEngine | undefined> {
    if (!this.roles.engines) return undefined;
    const engine = new PipelineEngine(
      plan,
      this.bus,
      this.naming,
      this.logger,
      Date.now,
      this.metrics,
      inline ? this.roles.models : undefined,
    );
    const gateway = this.roles.pipelineGateway;
    if (gateway) engine.onOutput = (records) => gateway.answer(records);
    await engine.start();
    return engine;
  }

  /**
   * Models whose input topics the model gateway must serve: those of pipelines that travel over
   * topics. Without the engines here it cannot know which run inline elsewhere, so it serves
   * every step (records already served inline are skipped).
   */
  private topicModels(): string[] {
    const out = new Set<string>();
    for (const r of this.running.values()) {
      if (r.engine?.inline) continue;
      for (const s of r.plan.steps) if (!s.name.startsWith('<')) out.add(s.name);
    }
    return [...out];
  }
}

/** A pipeline's version: a digest of its spec, the same in every process that reads it. */
export function versionOf(spec: PipelineSpec): string {
  return createHash('sha256').update(canonical(spec)).digest('hex').slice(0, 12);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${entries
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
