/** A Seldon Experiment: weighted traffic split between models (or pipelines), with a mirror. */
import type { Construct } from 'constructs';
import type { ExperimentSpec } from '../spec/types.ts';
import type { IModel, IPipeline } from './interfaces.ts';
import { EXPERIMENT_PROPS } from './prop-tables.ts';
import { checkProps, reportProps } from './prop-types.ts';
import { MlopsResource } from './resource.ts';
import { addRule, memoize, type Problem, type RuleContext } from './validation.ts';

/** What an experiment routes to: models, or pipelines (never both). */
export type ExperimentTarget = IModel | IPipeline;

/** One target of the split, written as `{ name, weight }`. */
export interface Candidate {
  /** The model or pipeline receiving this share. */
  readonly target: ExperimentTarget;
  /** Relative share of traffic: weight / sum of weights. */
  readonly weight: number;
}

/** Written as `mirror: { name, percent }`. */
export interface Mirror {
  /** The model or pipeline receiving the copies. */
  readonly target: ExperimentTarget;
  /** Percentage of requests copied to the mirror (responses are dropped). */
  readonly percent: number;
}

export interface ExperimentProps {
  /**
   * `metadata.name`: a DNS-1123 label without dots.
   * @default - the construct id
   */
  readonly name?: string;
  /** Targets sharing the traffic. */
  readonly candidates: Candidate[];
  /**
   * The candidate whose own endpoint receives the split (a model or pipeline can be the default
   * of one experiment only).
   * @default - the experiment gets its own endpoint `<name>.experiment`
   */
  readonly default?: ExperimentTarget;
  /**
   * A target receiving a copy of some requests.
   * @default - no mirror
   */
  readonly mirror?: Mirror;
}

const INT32_MAX = 2 ** 31 - 1;

/** Seldon stores a weight as a 32-bit integer. */
function weightProblems(field: string, weight: number): Problem[] {
  if (!Number.isInteger(weight) || weight < 0) {
    return [
      {
        field,
        value: weight,
        message: 'must be a whole number of at least 0',
        fix: 'use integer weights such as 50 and 50',
      },
    ];
  }
  if (weight > INT32_MAX) {
    return [
      {
        field,
        value: weight,
        message: `is above ${INT32_MAX}, the largest weight Seldon stores`,
        fix: 'scale the weights down: only their ratio matters, e.g. 50 and 50',
      },
    ];
  }
  return [];
}

export class Experiment extends MlopsResource {
  readonly kind = 'Experiment' as const;
  readonly candidates: readonly Candidate[];
  readonly default: ExperimentTarget | undefined;
  readonly mirror: Mirror | undefined;

  constructor(scope: Construct, id: string, untypedProps: ExperimentProps) {
    const { props, problems } = checkProps(untypedProps, EXPERIMENT_PROPS);
    super(scope, id, 'Experiment', props.name);
    reportProps(this, problems);
    // Tolerate untyped callers (e.g. plain JavaScript): a missing list is reported, not thrown.
    this.candidates = props.candidates ?? [];
    this.default = props.default;
    this.mirror = props.mirror;
    this.noteReferences(...this.candidates.map((c) => c.target), this.default, this.mirror?.target);
    addRule(this, (context) => [...this.ownProblems(), ...this.sharedDefaultProblems(context)]);
  }

  /** `pipeline` when the candidates are pipelines, else `model`. */
  get resourceType(): 'model' | 'pipeline' {
    const first = this.candidates[0]?.target ?? this.mirror?.target;
    return first?.kind === 'Pipeline' ? 'pipeline' : 'model';
  }

  protected renderSpec(): Record<string, unknown> {
    const spec: ExperimentSpec = {
      candidates: this.candidates.map((c) => ({ name: c.target.name, weight: c.weight })),
    };
    if (this.default) spec.default = this.default.name;
    if (this.mirror) spec.mirror = { name: this.mirror.target.name, percent: this.mirror.percent };
    // Seldon's default is `model`; only pipelines need saying.
    if (this.resourceType === 'pipeline') spec.resourceType = 'pipeline';
    return spec as unknown as Record<string, unknown>;
  }

  private ownProblems(): Problem[] {
    const problems: Problem[] = [];
    const kind = this.resourceType === 'pipeline' ? 'Pipeline' : 'Model';
    if (this.candidates.length === 0) {
      problems.push({
        field: 'candidates',
        value: [],
        message: 'an experiment needs at least one candidate',
        fix: 'add candidates: [{ target, weight }]',
      });
    }
    const names = new Set<string>();
    this.candidates.forEach((c, i) => {
      const at = `candidates[${i}]`;
      if (names.has(c.target.name)) {
        problems.push({
          field: `${at}.target`,
          value: c.target.name,
          message: 'duplicate candidate',
          fix: 'list each target once and give it the combined weight',
        });
      }
      names.add(c.target.name);
      problems.push(...weightProblems(`${at}.weight`, c.weight));
      problems.push(...this.targetProblems(`${at}.target`, c.target, kind));
    });
    const total = this.candidates.reduce((sum, c) => sum + (Number.isFinite(c.weight) ? c.weight : 0), 0);
    if (this.candidates.length > 0 && total === 0) {
      problems.push({
        field: 'candidates',
        value: this.candidates.map((c) => c.weight),
        message: 'the weights add up to zero, so no traffic would be routed',
        fix: 'give at least one candidate a positive weight',
      });
    }
    if (this.default && !names.has(this.default.name)) {
      problems.push({
        field: 'default',
        value: this.default.name,
        message: 'the default is not one of the candidates',
        fix: `use one of: ${[...names].join(', ') || '(no candidates)'}, or add it as a candidate`,
      });
    }
    if (this.mirror) {
      const m = this.mirror;
      if (names.has(m.target.name)) {
        problems.push({
          field: 'mirror.target',
          value: m.target.name,
          message: 'the mirror is also a candidate',
          fix: 'mirror a target that is not a candidate',
        });
      }
      if (!Number.isInteger(m.percent) || m.percent < 0 || m.percent > 100) {
        problems.push({
          field: 'mirror.percent',
          value: m.percent,
          message: 'is not a percentage',
          fix: 'use a whole number from 0 to 100',
        });
      }
      problems.push(...this.targetProblems('mirror.target', m.target, kind));
    }
    return problems;
  }

  private targetProblems(field: string, target: ExperimentTarget, kind: 'Model' | 'Pipeline'): Problem[] {
    if (target.kind !== kind) {
      return [
        {
          field,
          value: target.name,
          message: `is a ${target.kind} but the experiment's first target is a ${kind}: candidates and mirror must be all models or all pipelines`,
          fix: 'split it into one experiment for models and one for pipelines',
        },
      ];
    }
    if (!target.external && target.namespace !== this.namespace) {
      return [
        {
          field,
          value: target.name,
          message: `is in namespace "${target.namespace}" but the experiment is in "${this.namespace}"`,
          fix: 'route to targets of the same namespace',
        },
      ];
    }
    return [];
  }

  /** Seldon installs a default's split on its endpoint, so one target may be default of one experiment. */
  private sharedDefaultProblems(context: RuleContext): Problem[] {
    const mine = this.default;
    if (!mine) return [];
    const firstByDefault = memoize(context, Experiment, () => {
      const first = new Map<string, Experiment>();
      for (const c of context.all) {
        if (c instanceof Experiment && c.default && !first.has(c.defaultKey)) first.set(c.defaultKey, c);
      }
      return first;
    });
    const first = firstByDefault.get(this.defaultKey);
    if (!first || first === this) return [];
    return [
      {
        field: 'default',
        value: mine.name,
        message: `${mine.kind.toLowerCase()} "${mine.name}" is already the default of experiment "${first.name}" (${first.node.path})`,
        fix: 'a model or pipeline can be the default of one experiment only: drop `default` here or there',
      },
    ];
  }

  private get defaultKey(): string {
    return `${this.namespace}/${this.resourceType}/${this.default?.name}`;
  }
}
