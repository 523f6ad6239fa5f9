/**
 * Links a namespace's `Runtime` with its `Server`s whichever is declared first, without the
 * two modules importing each other: the later of the two attaches the server's workloads.
 */
import { Chart } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type { WorkloadServer } from './server-workloads.ts';

export interface ServerWorkloadHost {
  attachServer(server: WorkloadServer): void;
}

const hosts = new WeakMap<Chart, ServerWorkloadHost>();
const waiting = new WeakMap<Chart, WorkloadServer[]>();

/** The chart (namespace) `scope` belongs to, if any. */
export function chartOf(scope: IConstruct): Chart | undefined {
  return [...scope.node.scopes].reverse().find((s): s is Chart => Chart.isChart(s));
}

/** Called by every Server: gets its workloads now if the namespace has a runtime, else later. */
export function linkServer(server: WorkloadServer): void {
  const chart = chartOf(server);
  if (!chart) return;
  const host = hosts.get(chart);
  if (host) host.attachServer(server);
  else waiting.set(chart, [...(waiting.get(chart) ?? []), server]);
}

/** Registers the runtime of a chart; returns false when the chart already has one. */
export function registerRuntime(chart: Chart, host: ServerWorkloadHost): boolean {
  if (hosts.has(chart)) return false;
  hosts.set(chart, host);
  for (const server of waiting.get(chart) ?? []) host.attachServer(server);
  waiting.delete(chart);
  return true;
}
