/** What every construct of the five kinds shares: stable name, namespace, the raw object. */
import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct, type IConstruct } from 'constructs';
import { EXTERNAL_REFERENCES_ANNOTATION } from '../spec/annotations.ts';
import { DEFAULT_NAMING, KAFKA_TOPIC_MAX_LENGTH, resourceTopics } from '../spec/topics.ts';
import type { MlopsKind } from '../spec/types.ts';
import { API_VERSION } from '../spec/types.ts';
import { Environment } from './environment.ts';
import { dnsLabelProblem, suggestDnsLabel } from './names.ts';
import { addProblem, addRule, memoize, type Problem, type RuleContext, treeChanged } from './validation.ts';

/** The namespace objects created under `scope` get: their chart's, else undefined. */
export function namespaceOf(scope: Construct): string | undefined {
  const chart = Chart.isChart(scope) ? scope : [...scope.node.scopes].reverse().find((s) => Chart.isChart(s));
  return chart ? ((chart as Chart).namespace ?? 'default') : undefined;
}

/** Checks a resource name and records a finding naming the fix. */
export function checkResourceName(scope: Construct, kind: MlopsKind, name: string, fromId: boolean): void {
  const problem = dnsLabelProblem(name);
  if (!problem) return;
  const where = fromId ? 'set the `name` prop or rename the construct id' : 'change the `name` prop';
  addProblem(scope, {
    field: 'name',
    value: name,
    message: `${kind} name ${problem}; Seldon names must be DNS-1123 labels without dots`,
    fix: `${where}, e.g. "${suggestDnsLabel(name)}"`,
  });
}

/** What an existing construct is, for messages: its Seldon kind, else its class. */
function describeConstruct(c: IConstruct): string {
  const kind = (c as { kind?: unknown }).kind;
  return typeof kind === 'string' ? kind : c.constructor.name;
}

/**
 * `scope`, once it is clear that `id` is free there: cdk8s's own error names neither construct,
 * and an id is easily reused across kinds (a Model and a Pipeline both called `iris`).
 */
function claimId(scope: Construct, id: string, kind: MlopsKind): Construct {
  const existing = scope.node.tryFindChild(id);
  if (existing) {
    const where = scope.node.path || 'the app';
    throw new Error(
      `${kind} "${id}" clashes with the ${describeConstruct(existing)} "${id}" already in ${where}: construct ids must be unique within a scope; rename one of them, and set \`name\` if the Seldon name should stay "${id}"`,
    );
  }
  return scope;
}

export abstract class MlopsResource extends Construct {
  /** `metadata.name`: the `name` prop, or the construct id. */
  readonly name: string;
  /** The raw object (escape hatch), also reachable as `ApiObject.of(this)`. */
  readonly apiObject: ApiObject;
  readonly external = false;

  protected constructor(scope: Construct, id: string, kind: MlopsKind, name: string | undefined) {
    super(claimId(scope, id, kind), id);
    this.name = name ?? id;
    checkResourceName(this, kind, this.name, name === undefined);
    addRule(this, (context) => this.duplicateProblems(kind, context));
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: API_VERSION,
      kind,
      metadata: { name: this.name },
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
  }

  get namespace(): string | undefined {
    return this.apiObject.metadata.namespace ?? namespaceOf(this);
  }

  private readonly externalReferences = new Set<string>();

  /**
   * Records references to objects declared elsewhere (`fromName`) in an annotation, so that
   * `mlops validate` on the synthesized manifests trusts them as this app's validation does.
   */
  protected noteReferences(
    ...targets: ({ readonly kind: string; readonly name: string; readonly external?: boolean } | undefined)[]
  ): void {
    for (const t of targets) if (t?.external) this.externalReferences.add(`${t.kind}/${t.name}`);
    if (this.externalReferences.size === 0) return;
    this.apiObject.metadata.addAnnotation(
      EXTERNAL_REFERENCES_ANNOTATION,
      [...this.externalReferences].sort().join(','),
    );
  }

  /** Two objects of one kind and name in a namespace would overwrite each other. */
  private duplicateProblems(kind: MlopsKind, context: RuleContext): Problem[] {
    const key = (r: MlopsResource) => `${r.apiObject.kind}/${r.namespace}/${r.name}`;
    const first = memoize(context, MlopsResource, () => {
      const index = new Map<string, MlopsResource>();
      for (const c of context.all) if (c instanceof MlopsResource && !index.has(key(c))) index.set(key(c), c);
      return index;
    }).get(key(this));
    if (!first || first === this) return [];
    return [
      {
        field: 'name',
        value: this.name,
        message: `another ${kind} named "${this.name}" is in namespace "${this.namespace}" (${first.node.path})`,
        fix: 'give each object of a kind its own name within a namespace',
      },
    ];
  }

  /** The `spec` as Seldon reads it: only what was declared, plus required fields. */
  protected abstract renderSpec(): Record<string, unknown>;
}

/** A resource declared elsewhere (`fromName`): nothing is synthesized and validation trusts it. */
export abstract class ExternalResource extends Construct {
  readonly external = true;
  readonly namespace: string | undefined;

  protected constructor(
    scope: Construct,
    id: string,
    kind: MlopsKind,
    readonly name: string,
  ) {
    super(claimId(scope, id, kind), id);
    treeChanged();
    this.namespace = namespaceOf(this);
    checkResourceName(this, kind, name, false);
  }
}

/** Kafka refuses topic names over 249 characters; the runtime creates one per model and pipeline. */
export function checkTopicLength(scope: Construct, kind: 'model' | 'pipeline', name: string): void {
  addRule(scope, () => {
    const prefix = Environment.find(scope)?.kafkaTopicPrefix ?? DEFAULT_NAMING.prefix;
    const namespace = namespaceOf(scope) ?? DEFAULT_NAMING.namespace;
    const longest = resourceTopics({ prefix, namespace }, kind, name).sort((a, b) => b.length - a.length)[0];
    if (longest.length <= KAFKA_TOPIC_MAX_LENGTH) return [];
    return [
      {
        field: 'name',
        value: name,
        message: `its Kafka topic "${longest}" is ${longest.length} characters long, over Kafka's limit of ${KAFKA_TOPIC_MAX_LENGTH}`,
        fix: `shorten the ${kind} name or the namespace by ${longest.length - KAFKA_TOPIC_MAX_LENGTH} characters`,
      },
    ];
  });
}
