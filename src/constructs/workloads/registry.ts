/**
 * Links a namespace's `Runtime` with its `Server`s, `Pipeline`s and `Model`s whichever is
 * declared first, without the modules importing each other: the later of the two attaches the
 * workloads (a server's StatefulSet, a pipeline's Kafka topics, the agents' access to a model's
 * storage Secret) when it is constructed.
 */
import { Chart } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type { WorkloadServer } from './server-workloads.ts';

/** What the runtime reads of a Pipeline: its name and the models of its steps (so far). */
export interface WorkloadPipeline extends IConstruct {
  readonly name: string;
  readonly steps: readonly { readonly model: { readonly name: string } }[];
}

export interface RuntimeHost {
  attachServer(server: WorkloadServer): void;
  /** Called again whenever the pipeline gains a step. */
  attachPipeline(pipeline: WorkloadPipeline): void;
  /** A Model of the namespace reads its artifact with the credentials in this Secret. */
  attachStorageSecret(secretName: string): void;
}

interface Waiting {
  readonly servers: WorkloadServer[];
  readonly pipelines: Set<WorkloadPipeline>;
  readonly secrets: Set<string>;
}

const hosts = new WeakMap<Chart, RuntimeHost>();
const waiting = new WeakMap<Chart, Waiting>();

/** The chart (namespace) `scope` belongs to, if any. */
export function chartOf(scope: IConstruct): Chart | undefined {
  return [...scope.node.scopes].reverse().find((s): s is Chart => Chart.isChart(s));
}

function waitingIn(chart: Chart): Waiting {
  let w = waiting.get(chart);
  if (!w) {
    w = { servers: [], pipelines: new Set(), secrets: new Set() };
    waiting.set(chart, w);
  }
  return w;
}

/** Called by every Server: gets its workloads now if the namespace has a runtime, else later. */
export function linkServer(server: WorkloadServer): void {
  const chart = chartOf(server);
  if (!chart) return;
  const host = hosts.get(chart);
  if (host) host.attachServer(server);
  else waitingIn(chart).servers.push(server);
}

/** Called by every Pipeline when constructed and when it gains a step. */
export function linkPipeline(pipeline: WorkloadPipeline): void {
  const chart = chartOf(pipeline);
  if (!chart) return;
  const host = hosts.get(chart);
  if (host) host.attachPipeline(pipeline);
  else waitingIn(chart).pipelines.add(pipeline);
}

/** Called by every Model with a storage Secret: the namespace's agents may read it. */
export function linkStorageSecret(model: IConstruct, secretName: string): void {
  const chart = chartOf(model);
  if (!chart) return;
  const host = hosts.get(chart);
  if (host) host.attachStorageSecret(secretName);
  else waitingIn(chart).secrets.add(secretName);
}

/** Registers the runtime of a chart; returns false when the chart already has one. */
export function registerRuntime(chart: Chart, host: RuntimeHost): boolean {
  if (hosts.has(chart)) return false;
  hosts.set(chart, host);
  const w = waiting.get(chart);
  for (const server of w?.servers ?? []) host.attachServer(server);
  for (const pipeline of w?.pipelines ?? []) host.attachPipeline(pipeline);
  for (const secret of w?.secrets ?? []) host.attachStorageSecret(secret);
  waiting.delete(chart);
  return true;
}
