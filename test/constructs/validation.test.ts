import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Experiment } from '../../src/constructs/experiment.ts';
import { Model } from '../../src/constructs/model.ts';
import { collectFindings, formatFindings } from '../../src/constructs/validation.ts';

function brokenApp(): App {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, 'prod', { namespace: 'prod' });
  const iris = new Model(env, 'iris', { storageUri: 's', memory: 'lots', replicas: 5, maxReplicas: 2 });
  new Model(env, 'Bad_Name', { storageUri: 's' });
  new Experiment(env, 'ab', {
    candidates: [{ target: iris, weight: 0 }],
    default: Model.fromName(env, 'X', 'x'),
  });
  return app;
}

describe('collectFindings', () => {
  it('collects every problem of one app, sorted by path then field, without throwing in constructors', () => {
    const findings = collectFindings(brokenApp());
    expect(findings.map((f) => `${f.path} ${f.field}`)).toEqual([
      'prod/Bad_Name name',
      'prod/ab candidates',
      'prod/ab default',
      'prod/iris memory',
      'prod/iris replicas',
    ]);
  });

  it('is empty for a valid app and can be asked for a subtree', () => {
    const app = brokenApp();
    const good = new Environment(app, 'dev', { namespace: 'dev' });
    new Model(good, 'iris', { storageUri: 's' });
    expect(collectFindings(good)).toEqual([]);
  });

  it('sees constructs added after an earlier collection', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'prod' });
    expect(collectFindings(app)).toEqual([]);
    new Model(env, 'x.y', { storageUri: 's' });
    expect(collectFindings(app).map((f) => f.field)).toEqual(['name']);
  });
});

describe('formatFindings', () => {
  it('renders one block per finding with path, field, value, problem and fix', () => {
    const text = formatFindings(collectFindings(brokenApp()));
    expect(text.split('\n').slice(0, 12)).toEqual([
      '5 problems found:',
      '',
      'prod/Bad_Name',
      '  field:   name',
      '  value:   "Bad_Name"',
      '  problem: Model name must consist of lower-case letters, digits and "-", and start and end with a letter or digit; Seldon names must be DNS-1123 labels without dots',
      '  fix:     set the `name` prop or rename the construct id, e.g. "bad-name"',
      '',
      'prod/ab',
      '  field:   candidates',
      '  value:   [0]',
      '  problem: the weights add up to zero, so no traffic would be routed',
    ]);
    expect(text).toContain('  value:   "lots"\n  problem: is not a Kubernetes quantity\n');
  });

  it('says so when there is nothing to report', () => {
    expect(formatFindings([])).toBe('no problems found\n');
  });
});

describe('plain cdk8s synthesis', () => {
  it('re-validates cross-object rules when objects are added after a synthesis', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'prod' });
    const iris = new Model(env, 'iris', { storageUri: 's' });
    new Experiment(env, 'first', { candidates: [{ target: iris, weight: 1 }], default: iris });
    expect(() => app.synthYaml()).not.toThrow();
    new Experiment(env, 'second', { candidates: [{ target: iris, weight: 1 }], default: iris });
    expect(() => app.synthYaml()).toThrow(
      /\[prod\/second\] default: model "iris" is already the default of experiment "first"/,
    );
  });

  it('fails with every finding and writes nothing', () => {
    const app = brokenApp();
    expect(() => app.synthYaml()).toThrow(
      /\[prod\/iris\] memory: is not a Kubernetes quantity \(got "lots"\)[\s\S]*\[prod\/ab\] default: the default is not one of the candidates/,
    );
  });
});
