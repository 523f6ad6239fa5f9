/** What `mlops infer` calls: a model, a pipeline or an experiment, and how the gateway routes it. */
export interface InferTarget {
  kind: 'model' | 'pipeline' | 'experiment';
  name: string;
  /** Value of the `seldon-model` header. */
  routeKey: string;
  /** REST path on the gateway. */
  path: string;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUFFIX = /^(.*)\.(model|pipeline|experiment)$/;

/**
 * `iris` or `iris.model` → model, `fraud.pipeline` (or `fraud` with `--pipeline`) → pipeline,
 * `ab.experiment` → experiment.
 */
export function parseTarget(arg: string, opts: { pipeline?: boolean } = {}): InferTarget {
  const m = SUFFIX.exec(arg);
  const name = m ? m[1] : arg;
  let kind: InferTarget['kind'] = m ? (m[2] as InferTarget['kind']) : 'model';
  if (opts.pipeline) {
    if (m && kind !== 'pipeline') {
      throw new Error(`"${arg}" names a ${kind} but --pipeline was given; drop one of them`);
    }
    kind = 'pipeline';
  }
  if (!NAME.test(name)) {
    throw new Error(
      `"${arg}" is not a valid target: use a resource name of lower-case letters, digits and "-" ` +
        '(e.g. iris), optionally followed by .pipeline or .experiment',
    );
  }
  const routeKey = kind === 'model' ? name : `${name}.${kind}`;
  const path = kind === 'pipeline' ? `/v2/pipelines/${name}/infer` : `/v2/models/${name}/infer`;
  return { kind, name, routeKey, path };
}
