/** One namespace (and deployment environment): every object inside gets its namespace. */

import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import type { Construct, IConstruct } from 'constructs';
import { ARGOCD_SYNC_WAVE_ANNOTATION, FOUNDATION_SYNC_WAVE } from '../spec/annotations.ts';
import { DEFAULT_NAMING } from '../spec/topics.ts';
import { dnsLabelProblem, suggestDnsLabel } from './names.ts';
import { ENVIRONMENT_PROPS } from './prop-tables.ts';
import { checkProps, reportProps } from './prop-types.ts';
import { addProblem } from './validation.ts';

export interface EnvironmentProps {
  /** Namespace of every object in this environment (a DNS-1123 label). */
  readonly namespace: string;
  /**
   * Labels added to every object in this environment.
   * @default - no labels
   */
  readonly labels?: Record<string, string>;
  /**
   * Prefix of the Kafka topics the runtime creates in this namespace (checked against Kafka's
   * topic-name limit).
   * @default 'seldon'
   */
  readonly kafkaTopicPrefix?: string;
  /**
   * Whether this environment declares its Namespace (labelled to enforce the Pod Security
   * `restricted` standard). Set it to false when the namespace is created and labelled elsewhere
   * (a platform team, Argo CD's `CreateNamespace`, another app).
   * @default true
   */
  readonly createNamespace?: boolean;
}

/**
 * Pod Security admission labels of a declared namespace: every runtime pod meets `restricted`,
 * so the namespace enforces it (and warns and audits at the same level).
 */
const POD_SECURITY_LABELS: Record<string, string> = Object.fromEntries(
  ['enforce', 'warn', 'audit'].map((mode) => [`pod-security.kubernetes.io/${mode}`, 'restricted']),
);

const TOPIC_PREFIX = /^[A-Za-z0-9._-]+$/;

/**
 * A chart per namespace. Build several from one function to describe dev/staging/prod in a few
 * lines; names never get hash suffixes.
 */
export class Environment extends Chart {
  /** The environment `scope` belongs to, if any. */
  static find(scope: IConstruct): Environment | undefined {
    return [...scope.node.scopes].reverse().find((s): s is Environment => s instanceof Environment);
  }

  readonly kafkaTopicPrefix: string;
  /** True when `kafkaTopicPrefix` was given, not defaulted (a Runtime must then agree with it). */
  readonly kafkaTopicPrefixDeclared: boolean;

  constructor(scope: Construct, id: string, untypedProps: EnvironmentProps) {
    const { props, problems } = checkProps(untypedProps, ENVIRONMENT_PROPS);
    super(scope, id, { namespace: props.namespace, labels: props.labels, disableResourceNameHashes: true });
    reportProps(this, problems);
    this.kafkaTopicPrefix = props.kafkaTopicPrefix ?? DEFAULT_NAMING.prefix;
    this.kafkaTopicPrefixDeclared = props.kafkaTopicPrefix !== undefined;
    const problem = props.namespace === undefined ? undefined : dnsLabelProblem(props.namespace);
    if (props.namespace === undefined && !problems.some((p) => p.field === 'namespace')) {
      addProblem(this, {
        field: 'namespace',
        message: 'is required',
        fix: 'give the namespace, e.g. "prod"',
      });
    }
    if (problem) {
      addProblem(this, {
        field: 'namespace',
        value: props.namespace,
        message: `namespace ${problem}; namespaces must be DNS-1123 labels`,
        fix: `use e.g. "${suggestDnsLabel(props.namespace)}"`,
      });
    }
    if (props.createNamespace !== false && props.namespace !== undefined && !problem) {
      declareNamespace(this, props.namespace);
    }
    if (!TOPIC_PREFIX.test(this.kafkaTopicPrefix)) {
      addProblem(this, {
        field: 'kafkaTopicPrefix',
        value: this.kafkaTopicPrefix,
        message: 'is not a valid Kafka topic prefix',
        fix: 'use letters, digits, ".", "_" and "-" only, e.g. "seldon"',
      });
    }
  }
}

function declareNamespace(chart: Chart, name: string): void {
  const namespace = new ApiObject(chart, 'Namespace', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: POD_SECURITY_LABELS,
      annotations: { [ARGOCD_SYNC_WAVE_ANNOTATION]: FOUNDATION_SYNC_WAVE },
    },
  });
  // The chart gives every object its namespace; a Namespace is cluster-scoped.
  namespace.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
}
