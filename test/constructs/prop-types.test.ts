import type { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Experiment } from '../../src/constructs/experiment.ts';
import { Model } from '../../src/constructs/model.ts';
import { Pipeline } from '../../src/constructs/pipeline.ts';
import {
  ENVIRONMENT_PROPS,
  EXPERIMENT_PROPS,
  MODEL_PROPS,
  PIPELINE_PROPS,
  RUNTIME_PROPS,
  SERVER_CONFIG_PROPS,
  SERVER_PROPS,
} from '../../src/constructs/prop-tables.ts';
import type { PropKind, PropTable } from '../../src/constructs/prop-types.ts';
import { Runtime } from '../../src/constructs/runtime.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { type Json, problems, setup } from './helpers.ts';

describe('props checked at run time', () => {
  it('reports props of the wrong kind with the construct path instead of throwing', () => {
    const { app, env } = setup();
    const untyped = { storageUri: 5, secret: 123, memory: {} } as Json;
    expect(() => new Model(env, 'iris', untyped)).not.toThrow();
    expect(problems(app)).toEqual([
      'prod/iris memory: must be a quantity string such as "1Gi" or a cdk8s Size, not an object',
      'prod/iris secret: must be an object, not a number',
      'prod/iris storageUri: must be a string, not a number',
    ]);
  });

  it('reports props that are not an object, and list items without their required field', () => {
    const { app, env } = setup();
    const iris = new Model(env, 'iris', { storageUri: 'gs://m/iris' });
    new Pipeline(env, 'p', 'steps' as Json);
    new Experiment(env, 'e', { candidates: [{ weight: 1 }, { target: iris, weight: 1 }] } as Json);
    expect(problems(app)).toEqual([
      'prod/e candidates[0].target: is required',
      'prod/p (props): must be an object, not a string',
      'prod/p steps: a pipeline needs at least one step',
    ]);
  });

  // One value of the wrong kind for each kind of prop.
  function wrong(kind: PropKind): unknown {
    if (typeof kind !== 'string') return 'fields' in kind ? 7 : 'x';
    const values: Record<string, unknown> = {
      string: 123,
      number: 'x',
      boolean: 'yes',
      memory: {},
      resource: 'iris',
      object: 5,
      list: 'x',
      strings: [1],
      'string map': { a: 1 },
      'number or string': {},
    };
    return values[kind];
  }

  type Make = (scope: Construct, id: string, props: Json) => unknown;
  const constructs: [string, PropTable, Make, (env: Environment) => Json][] = [
    ['Model', MODEL_PROPS, (s, id, p) => new Model(s, id, p), () => ({ storageUri: 'gs://m/x' })],
    [
      'Server',
      SERVER_PROPS,
      (s, id, p) => new Server(s, id, p),
      () => ({ serverConfig: ServerConfig.MLSERVER }),
    ],
    [
      'ServerConfig',
      SERVER_CONFIG_PROPS,
      (s, id, p) => new ServerConfig(s, id, p),
      () => ({ podSpec: { containers: [{ name: 'c' }] } }),
    ],
    [
      'Pipeline',
      PIPELINE_PROPS,
      (s, id, p) => new Pipeline(s, id, p),
      (e) => ({ steps: [{ model: new Model(e, 'step', { storageUri: 'gs://m/x' }) }] }),
    ],
    [
      'Experiment',
      EXPERIMENT_PROPS,
      (s, id, p) => new Experiment(s, id, p),
      (e) => ({ candidates: [{ target: new Model(e, 'candidate', { storageUri: 'gs://m/x' }), weight: 1 }] }),
    ],
    [
      'Environment',
      ENVIRONMENT_PROPS,
      (s, id, p) => new Environment(s, id, p),
      () => ({ namespace: 'other' }),
    ],
    ['Runtime', RUNTIME_PROPS, (s, id, p) => new Runtime(s, id, p), () => ({})],
  ];

  for (const [kind, table, make, valid] of constructs) {
    it(`checks every prop of ${kind}`, () => {
      for (const [prop, propKind] of Object.entries(table)) {
        const { app, env } = setup();
        const scope = kind === 'Environment' ? app : env;
        const props = { ...valid(env), [prop]: wrong(propKind) };
        expect(() => make(scope, 'x', props), `${kind}.${prop}`).not.toThrow();
        const path = kind === 'Environment' ? 'x' : 'prod/x';
        const found = problems(app).filter((p) => p.startsWith(`${path} ${prop}`));
        expect(
          found.some((p) => p.includes(': must be ')),
          `${kind}.${prop}: ${found}`,
        ).toBe(true);
      }
    });
  }
});
