/**
 * Scales a Model or a Server on a Prometheus metric: a HorizontalPodAutoscaler on the custom
 * resource's `scale` subresource, reading a custom metric the Prometheus Adapter serves. The
 * adapter rules every autoscaler of a namespace needs are emitted once, in the ConfigMap
 * `prometheus-adapter-rules` (key `config.yaml`, the adapter's configuration format), to be
 * merged into the adapter's configuration: the adapter reads one configuration for the whole
 * cluster, owned by whoever installs it, so an app ships its rules for review rather than
 * overwriting that configuration.
 */
import { ApiObject, Lazy } from 'cdk8s';
import { Construct, type IConstruct } from 'constructs';
import { stringify } from 'yaml';
import { API_VERSION } from '../spec/types.ts';
import { checkCount } from './checks.ts';
import type { IModel, IServer } from './interfaces.ts';
import {
  type AdapterRule,
  type ResolvedMetric,
  resolveScalingMetric,
  type ScalingMetric,
  scalableCounters,
} from './monitoring/scaling-metrics.ts';
import { dnsLabelProblem } from './names.ts';
import { checkProps, type PropTable, reportProps } from './prop-types.ts';
import { MlopsResource, namespaceOf } from './resource.ts';
import { addProblem, addRule, type Problem } from './validation.ts';
import { chartOf } from './workloads/registry.ts';

export type { ScalingMetric } from './monitoring/scaling-metrics.ts';

export interface MetricAutoscalerProps {
  /** The Model or Server to scale, in the autoscaler's namespace. */
  readonly target: IModel | IServer;
  /**
   * What to scale on.
   * @default 'inferRate' - inference requests per second per replica
   */
  readonly metric?: ScalingMetric;
  /**
   * The value to hold: per replica for rates (requests per second), for the whole target for
   * `'inferLatency'` (seconds). Above it the autoscaler adds replicas, below it removes them.
   */
  readonly targetValue: number;
  /**
   * Fewest replicas.
   * @default 1
   */
  readonly minReplicas?: number;
  /** Most replicas. */
  readonly maxReplicas: number;
  /**
   * Name of the HorizontalPodAutoscaler.
   * @default - `<target name>-autoscaler`
   */
  readonly name?: string;
}

const PROPS: PropTable = {
  target: 'resource',
  targetValue: 'number',
  minReplicas: 'number',
  maxReplicas: 'number',
  name: 'string',
};

/** Name of the ConfigMap holding a namespace's Prometheus Adapter rules. */
export const ADAPTER_RULES_CONFIGMAP = 'prometheus-adapter-rules';

/**
 * `new MetricAutoscaler(env, 'iris-scaling', { target: iris, targetValue: 20, maxReplicas: 5 })`:
 * keeps `iris` at about 20 requests per second per replica, between 1 and 5 replicas. The
 * target must declare `replicas` (the autoscaler changes it through the `scale` subresource;
 * GitOps tools must ignore `/spec/replicas`) and no `minReplicas`/`maxReplicas`, which would
 * start the runtime's own autoscaling against it.
 */
export class MetricAutoscaler extends Construct {
  readonly name: string;
  /** The custom metric scaled on, once resolved. */
  readonly metric: ResolvedMetric | undefined;

  constructor(scope: Construct, id: string, untypedProps: MetricAutoscalerProps) {
    const { props, problems } = checkProps(untypedProps, PROPS);
    super(scope, id);
    reportProps(this, problems);
    const target = props.target;
    const kind = target?.kind;
    this.name = props.name ?? `${target?.name ?? id}-autoscaler`;
    if (kind !== 'Model' && kind !== 'Server') {
      addProblem(this, {
        field: 'target',
        value: kind ?? target,
        message: 'is not a Model or a Server (only they have a scale subresource)',
        fix: 'pass a Model or a Server, or Model.fromName/Server.fromName for one declared elsewhere',
      });
      this.metric = undefined;
      return;
    }
    targets.set(this, target);
    const resolved = resolveScalingMetric(props.metric ?? 'inferRate', kind);
    this.metric = typeof resolved === 'string' ? undefined : resolved;
    if (typeof resolved === 'string') {
      addProblem(this, {
        field: 'metric',
        value: props.metric,
        message: resolved,
        fix: `use 'inferRate', 'inferLatency' or { rateOf } with one of: ${scalableCounters(kind).join(', ')}`,
      });
    }
    this.checkBounds(props);
    addRule(this, (context) => targetProblems(this, target, context.all));
    if (!this.metric) return;
    new ApiObject(this, 'Resource', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: this.name },
      spec: hpaSpec(target, this.metric, props),
    });
    adapterRules(this).add(this.metric.rule);
  }

  private checkBounds(p: MetricAutoscalerProps): void {
    const name = dnsLabelProblem(this.name);
    if (name)
      addProblem(this, { field: 'name', value: this.name, message: name, fix: 'use a DNS-1123 label' });
    const okMin = checkCount(this, 'minReplicas', p.minReplicas, 1);
    const okMax = p.maxReplicas === undefined ? false : checkCount(this, 'maxReplicas', p.maxReplicas, 1);
    if (p.maxReplicas === undefined)
      addProblem(this, {
        field: 'maxReplicas',
        message: 'is required',
        fix: 'give the most replicas to scale to',
      });
    const min = p.minReplicas ?? 1;
    if (okMin && okMax && min > p.maxReplicas) {
      addProblem(this, {
        field: 'minReplicas',
        value: min,
        message: `is above maxReplicas (${p.maxReplicas})`,
        fix: `use a minReplicas of at most ${p.maxReplicas}, or raise maxReplicas`,
      });
    }
    if (!(typeof p.targetValue === 'number' && Number.isFinite(p.targetValue) && p.targetValue > 0)) {
      addProblem(this, {
        field: 'targetValue',
        value: p.targetValue,
        message: 'must be a number above 0',
        fix: 'give the requests per second per replica (or seconds of latency) to hold, e.g. 20',
      });
    }
  }
}

/** The target must be in this namespace, scalable by an HPA, and scaled by no other autoscaler. */
function targetProblems(
  self: MetricAutoscaler,
  target: IModel | IServer,
  all: readonly IConstruct[],
): Problem[] {
  const problems: Problem[] = [];
  const here = namespaceOf(self);
  if (target.namespace !== undefined && here !== undefined && target.namespace !== here) {
    problems.push({
      field: 'target',
      value: `${target.kind} ${target.namespace}/${target.name}`,
      message: `is in namespace "${target.namespace}", and an autoscaler scales objects of its own namespace ("${here}") only`,
      fix: 'declare the autoscaler in the Environment of its target',
    });
  }
  const others = all.filter(
    (c): c is MetricAutoscaler =>
      c instanceof MetricAutoscaler && c !== self && sameTarget(c, target) && namespaceOf(c) === here,
  );
  if (others.length > 0) {
    problems.push({
      field: 'target',
      value: `${target.kind} ${target.name}`,
      message: `is also scaled by ${others.map((o) => o.node.path).join(', ')}; two autoscalers would undo each other's changes`,
      fix: 'keep one MetricAutoscaler per Model or Server',
    });
  }
  if (target instanceof MlopsResource) {
    const spec = (target.apiObject.toJson() as { spec?: Record<string, unknown> }).spec ?? {};
    if (spec.minReplicas !== undefined || spec.maxReplicas !== undefined) {
      problems.push({
        field: 'target',
        value: `${target.kind} ${target.name}`,
        message: `declares minReplicas/maxReplicas, which start the runtime's own autoscaling of the ${target.kind}: it and the HPA would fight`,
        fix: 'drop minReplicas and maxReplicas from the target; the autoscaler has its own bounds',
      });
    }
    if (spec.replicas === undefined) {
      problems.push({
        field: 'target',
        value: `${target.kind} ${target.name}`,
        message:
          "declares no replicas: an HPA reads the scale subresource's spec.replicas, and leaves a target without one alone",
        fix: 'set replicas on the target (e.g. to minReplicas), and have GitOps ignore /spec/replicas',
      });
    }
  }
  return problems;
}

const targets = new WeakMap<MetricAutoscaler, IModel | IServer>();

function sameTarget(a: MetricAutoscaler, target: IModel | IServer): boolean {
  const t = targets.get(a);
  return t !== undefined && t.kind === target.kind && t.name === target.name;
}

function hpaSpec(
  target: IModel | IServer,
  metric: ResolvedMetric,
  p: MetricAutoscalerProps,
): Record<string, unknown> {
  const ref = { apiVersion: API_VERSION, kind: target.kind, name: target.name };
  const value = quantity(p.targetValue);
  return {
    scaleTargetRef: ref,
    minReplicas: p.minReplicas ?? 1,
    maxReplicas: p.maxReplicas,
    metrics: [
      {
        type: 'Object',
        object: {
          describedObject: ref,
          metric: { name: metric.name },
          target:
            metric.targetType === 'AverageValue'
              ? { type: 'AverageValue', averageValue: value }
              : { type: 'Value', value },
        },
      },
    ],
  };
}

/** A Kubernetes quantity: whole numbers as they are, fractions in thousandths (`0.25` → `250m`). */
function quantity(v: number): string {
  return Number.isInteger(v) ? String(v) : `${Math.max(1, Math.round(v * 1000))}m`;
}

/** The rules of one chart's autoscalers, rendered into one ConfigMap. */
class AdapterRules extends Construct {
  private readonly rules = new Map<string, AdapterRule>();

  constructor(scope: Construct) {
    super(scope, 'PrometheusAdapterRules');
    new ApiObject(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ADAPTER_RULES_CONFIGMAP },
      data: Lazy.any({
        produce: () => ({
          'config.yaml': stringify(
            { rules: [...this.rules.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r) },
            { lineWidth: 0 },
          ),
        }),
      }),
    });
  }

  add(rule: AdapterRule): void {
    this.rules.set(rule.name.as, rule);
  }
}

function adapterRules(self: MetricAutoscaler): AdapterRules {
  const scope: Construct = chartOf(self) ?? self;
  const found = scope.node.tryFindChild('PrometheusAdapterRules');
  return found instanceof AdapterRules ? found : new AdapterRules(scope);
}
