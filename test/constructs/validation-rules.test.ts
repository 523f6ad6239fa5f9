/** One test per validation rule: the finding's path, field, value and text are asserted. */
import { App, Size } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/constructs/environment.ts';
import { Experiment } from '../../src/constructs/experiment.ts';
import { Model } from '../../src/constructs/model.ts';
import { type JoinType, Pipeline } from '../../src/constructs/pipeline.ts';
import { Server } from '../../src/constructs/server.ts';
import { ServerConfig } from '../../src/constructs/server-config.ts';
import { collectFindings } from '../../src/constructs/validation.ts';
import { problems, setup } from './helpers.ts';

const model = (env: Environment, id: string, props: Partial<ConstructorParameters<typeof Model>[2]> = {}) =>
  new Model(env, id, { storageUri: `gs://m/${id}`, ...props });

describe('names', () => {
  it('rejects a name with a dot and suggests a valid one', () => {
    const { app, env } = setup();
    model(env, 'iris', { name: 'iris.v2' });
    expect(collectFindings(app)).toEqual([
      {
        path: 'prod/iris',
        field: 'name',
        value: 'iris.v2',
        message: 'Model name contains a dot; Seldon names must be DNS-1123 labels without dots',
        fix: 'change the `name` prop, e.g. "iris-v2"',
      },
    ]);
  });

  it('points at the construct id when the name comes from it', () => {
    const { app, env } = setup();
    new Server(env, 'MLServer', { serverConfig: ServerConfig.MLSERVER });
    const [f] = collectFindings(app);
    expect(f.message).toBe(
      'Server name must consist of lower-case letters, digits and "-", and start and end with a letter or digit; Seldon names must be DNS-1123 labels without dots',
    );
    expect(f.fix).toBe('set the `name` prop or rename the construct id, e.g. "mlserver"');
  });

  it('rejects two objects of one kind with the same name in a namespace', () => {
    const { app, env } = setup();
    model(env, 'iris');
    model(env, 'iris-again', { name: 'iris' });
    new Pipeline(env, 'iris-pipeline', { name: 'iris', steps: [{ model: model(env, 'other') }] });
    expect(collectFindings(app)).toEqual([
      {
        path: 'prod/iris-again',
        field: 'name',
        value: 'iris',
        message: 'another Model named "iris" is in namespace "prod" (prod/iris)',
        fix: 'give each object of a kind its own name within a namespace',
      },
    ]);
  });

  it('rejects an invalid namespace', () => {
    const app = new App({ outdir: 'unused' });
    new Environment(app, 'prod', { namespace: 'Prod_EU' });
    expect(collectFindings(app)).toEqual([
      {
        path: 'prod',
        field: 'namespace',
        value: 'Prod_EU',
        message:
          'namespace must consist of lower-case letters, digits and "-", and start and end with a letter or digit; namespaces must be DNS-1123 labels',
        fix: 'use e.g. "prod-eu"',
      },
    ]);
  });

  it('rejects an invalid Kafka topic prefix', () => {
    const app = new App({ outdir: 'unused' });
    new Environment(app, 'prod', { namespace: 'prod', kafkaTopicPrefix: 'my prefix' });
    expect(problems(app)).toEqual(['prod kafkaTopicPrefix: is not a valid Kafka topic prefix']);
  });

  it('rejects a Secret reference that is not a Kubernetes name', () => {
    const { app, env } = setup();
    model(env, 'iris', { secret: { name: 'My Secret' } });
    expect(problems(app)).toEqual([
      'prod/iris secret: Secret name must consist of lower-case letters, digits, "-" and ".", and start and end with a letter or digit',
    ]);
  });

  it('reports Kafka topic names over the broker limit', () => {
    const app = new App({ outdir: 'unused' });
    const env = new Environment(app, 'prod', { namespace: 'prod', kafkaTopicPrefix: 'p'.repeat(206) });
    model(env, 'a-model-with-a-long-name');
    const [f] = collectFindings(app);
    expect(f.field).toBe('name');
    expect(f.message).toBe(
      `its Kafka topic "${'p'.repeat(206)}.prod.model.a-model-with-a-long-name.outputs" is 250 characters long, over Kafka's limit of 249`,
    );
    expect(f.fix).toBe('shorten the model name or the namespace by 1 characters');
  });
});

describe('fields', () => {
  it('requires storageUri', () => {
    const { app, env } = setup();
    new Model(env, 'iris', { storageUri: '' });
    expect(problems(app)).toEqual(['prod/iris storageUri: is required']);
  });

  it('checks memory quantity syntax', () => {
    const { app, env } = setup();
    model(env, 'iris', { memory: '12 GB' });
    expect(collectFindings(app)).toEqual([
      {
        path: 'prod/iris',
        field: 'memory',
        value: '12 GB',
        message: 'is not a Kubernetes quantity',
        fix: 'use a number with an optional suffix, e.g. 512Mi, 1.5Gi, 500M or 1e9',
      },
    ]);
  });

  it('requires memory to be a whole number of bytes', () => {
    const { app, env } = setup();
    model(env, 'iris', { memory: '100m' });
    new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, memory: '0' });
    expect(problems(app)).toEqual([
      'prod/iris memory: is 0.1 bytes, not a whole number of bytes',
      'prod/mlserver memory: must be more than zero bytes',
    ]);
  });

  it('checks scaling bounds', () => {
    const { app, env } = setup();
    model(env, 'below', { replicas: 1, minReplicas: 2 });
    model(env, 'above', { replicas: 5, maxReplicas: 3 });
    new Server(env, 'inverted', { serverConfig: ServerConfig.MLSERVER, minReplicas: 4, maxReplicas: 2 });
    model(env, 'fraction', { replicas: 1.5 });
    expect(problems(app).filter((p) => !p.includes('replicas: needs'))).toEqual([
      'prod/above replicas: is above maxReplicas (3)',
      'prod/below replicas: is below minReplicas (2)',
      'prod/fraction replicas: must be a whole number',
      'prod/inverted minReplicas: is above maxReplicas (2)',
    ]);
  });

  it('accepts a maxReplicas of 0 as no bound', () => {
    const { app, env } = setup();
    model(env, 'iris', { replicas: 10, maxReplicas: 0 });
    expect(problems(app)).toEqual([]);
  });

  it('checks whole-number fields and percentages', () => {
    const { app, env } = setup();
    model(env, 'iris', { artifactVersion: -1, logger: { percent: 150 } });
    expect(problems(app)).toEqual([
      'prod/iris artifactVersion: is outside 0 to 2147483647',
      'prod/iris logger.percent: is not a percentage',
    ]);
  });

  it('rejects a model that is both explainer and LLM module', () => {
    const { app, env } = setup();
    const target = model(env, 'income');
    model(env, 'both', { explainer: { type: 'anchor_tabular', target }, llm: { target } });
    expect(problems(app)).toEqual(['prod/both llm: a model cannot be both an explainer and an LLM module']);
  });

  it('rejects capability names that would break the comma-joined list', () => {
    const { app, env } = setup();
    model(env, 'iris', { requirements: ['sklearn,xgboost'] });
    new Server(env, 's', { serverConfig: ServerConfig.MLSERVER, extraCapabilities: [' '] });
    expect(problems(app).filter((p) => /capabilities|requirements\[/i.test(p))).toEqual([
      'prod/iris requirements[0]: is not a capability name',
      'prod/s extraCapabilities[0]: is not a capability name',
    ]);
  });

  it('rejects server memory that conflicts with the pod spec or has no container to go to', () => {
    const { app, env } = setup();
    new Server(env, 'conflict', {
      serverConfig: ServerConfig.MLSERVER,
      memory: '2Gi',
      podSpec: { containers: [{ name: 'mlserver', resources: { requests: { memory: '1Gi' } } }] },
    });
    new Server(env, 'unknown', { serverConfig: ServerConfig.fromName('custom'), memory: '2Gi' });
    expect(problems(app)).toEqual([
      'prod/conflict memory: conflicts with podSpec container "mlserver" requesting 1Gi',
      'prod/unknown memory: the server configuration "custom" does not say which container serves inference',
    ]);
  });

  it('rejects a negative over-commit percentage', () => {
    const { app, env } = setup();
    new Server(env, 's', { serverConfig: ServerConfig.MLSERVER, overCommitPercentage: -5 });
    expect(problems(app)).toEqual(['prod/s overCommitPercentage: is outside 0 to 2147483647']);
  });
});

describe('pipelines', () => {
  it('requires at least one step', () => {
    const { app, env } = setup();
    new Pipeline(env, 'empty');
    expect(problems(app)).toEqual(['prod/empty steps: a pipeline needs at least one step']);
  });

  it('reports references to models that are not steps', () => {
    const { app, env } = setup();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => model(env, n));
    new Pipeline(env, 'p', {
      steps: [{ model: a }, { model: b, inputs: [c.outputs('y')] }],
      output: { steps: [c] },
    });
    expect(collectFindings(app).filter((f) => f.path === 'prod/p')).toEqual([
      {
        path: 'prod/p',
        field: 'output.steps[0]',
        value: 'c',
        message: 'references model "c", which is not a step of this pipeline',
        fix: 'add a step for it, or use one of: a, b',
      },
      {
        path: 'prod/p',
        field: 'steps[1].inputs[0]',
        value: 'c',
        message: 'references model "c", which is not a step of this pipeline',
        fix: 'add a step for it, or use one of: a, b',
      },
    ]);
  });

  it('reports steps reading another pipeline directly', () => {
    const { app, env } = setup();
    const a = model(env, 'a');
    const other = Pipeline.fromName(env, 'Other', 'other');
    new Pipeline(env, 'p', { steps: [{ model: a, inputs: [other.outputs('t')] }] });
    expect(problems(app)).toEqual([
      "prod/p steps[0].inputs[0]: steps can only read this pipeline's own inputs, not another pipeline's data",
    ]);
  });

  it('reports cycles unless allowCycles', () => {
    const { app, env } = setup();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => model(env, n));
    const steps = [
      { model: a, inputs: [c] },
      { model: b, inputs: [a] },
      { model: c, inputs: [b.outputs('t')] },
    ];
    new Pipeline(env, 'loop', { steps });
    new Pipeline(env, 'allowed', { steps, allowCycles: true, maxStepRevisits: 2 });
    expect(collectFindings(app)).toEqual([
      {
        path: 'prod/loop',
        field: 'steps',
        value: 'a -> b -> c -> a',
        message: 'the steps form a cycle',
        fix: 'break the cycle, or set allowCycles: true (with maxStepRevisits) if it is intended',
      },
    ]);
  });

  it('reports a step reading itself as a cycle', () => {
    const { app, env } = setup();
    const a = model(env, 'a');
    new Pipeline(env, 'p', { steps: [{ model: a, inputs: [a] }] });
    expect(collectFindings(app).map((f) => f.value)).toEqual(['a -> a']);
  });

  it('reports triggers that are also inputs', () => {
    const { app, env } = setup();
    const [a, b] = ['a', 'b'].map((n) => model(env, n));
    new Pipeline(env, 'p', { steps: [{ model: a }, { model: b, inputs: [a.outputs('x')], triggers: [a] }] });
    expect(problems(app)).toEqual([
      'prod/p steps[1].triggers: step "a" is both an input and a trigger of step "b"',
    ]);
  });

  it('allows the pipeline inputs as both input and trigger', () => {
    const { app, env } = setup();
    const a = model(env, 'a');
    const p = new Pipeline(env, 'p');
    p.addStep(a, { inputs: [p.inputs('x')], triggers: [p.inputs('ok')] });
    expect(problems(app)).toEqual([]);
  });

  it('reports duplicate steps', () => {
    const { app, env } = setup();
    const a = model(env, 'a');
    new Pipeline(env, 'p', { steps: [{ model: a }, { model: Model.fromName(env, 'A2', 'a') }] });
    expect(problems(app)).toEqual([
      'prod/p steps[1].model: duplicate step: model "a" is already a step of this pipeline',
    ]);
  });

  it('reports a step named like its pipeline', () => {
    const { app, env } = setup();
    new Pipeline(env, 'iris-pipeline', { name: 'iris', steps: [{ model: model(env, 'iris') }] });
    expect(problems(app)).toEqual([
      'prod/iris-pipeline steps[0].model: a step cannot be named like its pipeline (references to it would read the pipeline inputs)',
    ]);
  });

  it('reports a step model from another namespace', () => {
    const app = new App({ outdir: 'unused' });
    const dev = new Environment(app, 'dev', { namespace: 'dev' });
    const prod = new Environment(app, 'prod', { namespace: 'prod' });
    new Pipeline(prod, 'p', { steps: [{ model: model(dev, 'a') }] });
    expect(problems(app)).toEqual([
      'prod/p steps[0].model: model is in namespace "dev" but the pipeline is in "prod"',
    ]);
  });

  it('reports bad tensor names and tensors a model does not declare', () => {
    const { app, env } = setup();
    const a = model(env, 'a', { tensors: { outputs: ['probs'] } });
    const b = model(env, 'b');
    new Pipeline(env, 'p', {
      steps: [{ model: a }, { model: b, inputs: [a.outputs('prob'), a.outputs('x.y')] }],
    });
    expect(collectFindings(app).map((f) => [f.field, f.message, f.fix])).toEqual([
      ['steps[1].inputs[0]', 'model "a" declares no output tensor "prob"', 'use one of: probs'],
      ['steps[1].inputs[1]', 'tensor name contains a dot, which Seldon reads as a separator', undefined],
    ]);
  });

  it('reports pipeline input tensors it does not declare', () => {
    const { app, env } = setup();
    const p = new Pipeline(env, 'p', { inputTensors: ['INPUT0'] });
    p.addStep(model(env, 'a'), { inputs: [p.inputs('INPUT1')] });
    expect(problems(app)).toEqual([
      'prod/p steps[0].inputs[0]: pipeline "p" declares no input tensor "INPUT1"',
    ]);
  });

  it('requires tensor map entries to name a tensor', () => {
    const { app, env } = setup();
    const [a, b] = ['a', 'b'].map((n) => model(env, n));
    new Pipeline(env, 'p', {
      steps: [{ model: a }, { model: b, inputs: [a], tensorMap: [{ from: a.outputs(), to: 'X' }] }],
    });
    expect(problems(app)).toEqual([
      'prod/p steps[1].tensorMap[0].from: a tensor map entry must name one tensor',
    ]);
  });

  it('checks external inputs', () => {
    const { app, env } = setup();
    const [a, b] = ['a', 'b'].map((n) => model(env, n));
    const other = new Pipeline(env, 'other', { steps: [{ model: a }] });
    new Pipeline(env, 'p', {
      steps: [{ model: b }],
      input: {
        externalInputs: [a.outputs('t'), other.step(b).outputs(), Pipeline.fromName(env, 'Self', 'p')],
      },
    });
    new Pipeline(env, 'q', { steps: [{ model: a }], input: { externalInputs: [] } });
    expect(problems(app)).toEqual([
      'prod/p input.externalInputs[0]: external inputs come from other pipelines, not from models',
      'prod/p input.externalInputs[1]: pipeline "other" has no step "b"',
      'prod/p input.externalInputs[2]: a pipeline cannot take external input from itself',
      'prod/q input.externalInputs: an input block needs at least one external input',
    ]);
  });

  it('reports missing required lists from untyped callers instead of throwing', () => {
    const { app, env } = setup();
    const untyped = {} as never;
    new Pipeline(env, 'p', { steps: [{ model: model(env, 'a') }], input: untyped, output: untyped });
    new Experiment(env, 'e', untyped);
    new Server(env, 's', untyped);
    expect(problems(app)).toEqual([
      'prod/e candidates: an experiment needs at least one candidate',
      'prod/p input.externalInputs: an input block needs at least one external input',
      'prod/s serverConfig: is required',
    ]);
    expect(() => env.toJson()).toThrow(/Validation failed/);
  });

  it('reports maxStepRevisits without allowCycles', () => {
    const { app, env } = setup();
    new Pipeline(env, 'p', { steps: [{ model: model(env, 'a') }], maxStepRevisits: 3 });
    expect(problems(app)).toEqual(['prod/p maxStepRevisits: has no effect unless allowCycles is true']);
  });

  it('reports join types that are not inner, outer or any', () => {
    const { app, env } = setup();
    new Pipeline(env, 'p', { steps: [{ model: model(env, 'a'), inputsJoinType: 'left' as JoinType }] });
    expect(problems(app)).toEqual(['prod/p steps[0].inputsJoinType: is not a join type']);
  });
});

describe('experiments', () => {
  const twoModels = (env: Environment) => [model(env, 'iris'), model(env, 'iris2')];

  it('reports a default that is not a candidate', () => {
    const { app, env } = setup();
    const [iris, iris2] = twoModels(env);
    new Experiment(env, 'ab', { candidates: [{ target: iris, weight: 1 }], default: iris2 });
    expect(collectFindings(app)).toEqual([
      {
        path: 'prod/ab',
        field: 'default',
        value: 'iris2',
        message: 'the default is not one of the candidates',
        fix: 'use one of: iris, or add it as a candidate',
      },
    ]);
  });

  it('reports duplicate candidates', () => {
    const { app, env } = setup();
    const [iris] = twoModels(env);
    new Experiment(env, 'ab', {
      candidates: [
        { target: iris, weight: 1 },
        { target: iris, weight: 2 },
      ],
    });
    expect(problems(app)).toEqual(['prod/ab candidates[1].target: duplicate candidate']);
  });

  it('reports a zero total weight', () => {
    const { app, env } = setup();
    const [iris, iris2] = twoModels(env);
    new Experiment(env, 'ab', {
      candidates: [
        { target: iris, weight: 0 },
        { target: iris2, weight: 0 },
      ],
    });
    expect(collectFindings(app)).toEqual([
      {
        path: 'prod/ab',
        field: 'candidates',
        value: [0, 0],
        message: 'the weights add up to zero, so no traffic would be routed',
        fix: 'give at least one candidate a positive weight',
      },
    ]);
  });

  it('reports negative or fractional weights and an experiment without candidates', () => {
    const { app, env } = setup();
    const [iris, iris2] = twoModels(env);
    new Experiment(env, 'ab', {
      candidates: [
        { target: iris, weight: -1 },
        { target: iris2, weight: 2.5 },
      ],
    });
    new Experiment(env, 'none', { candidates: [] });
    expect(problems(app)).toEqual([
      'prod/ab candidates[0].weight: must be a whole number of at least 0',
      'prod/ab candidates[1].weight: must be a whole number of at least 0',
      'prod/none candidates: an experiment needs at least one candidate',
    ]);
  });

  it('reports a model that is the default of two experiments', () => {
    const { app, env } = setup();
    const [iris, iris2] = twoModels(env);
    const candidates = [
      { target: iris, weight: 1 },
      { target: iris2, weight: 1 },
    ];
    new Experiment(env, 'first', { candidates, default: iris });
    new Experiment(env, 'second', { candidates, default: iris });
    expect(collectFindings(app)).toEqual([
      {
        path: 'prod/second',
        field: 'default',
        value: 'iris',
        message: 'model "iris" is already the default of experiment "first" (prod/first)',
        fix: 'a model or pipeline can be the default of one experiment only: drop `default` here or there',
      },
    ]);
  });

  it('allows the same default name in different namespaces', () => {
    const app = new App({ outdir: 'unused' });
    for (const ns of ['dev', 'prod']) {
      const env = new Environment(app, ns, { namespace: ns });
      const iris = model(env, 'iris');
      new Experiment(env, 'ab', { candidates: [{ target: iris, weight: 1 }], default: iris });
    }
    expect(problems(app)).toEqual([]);
  });

  it('reports candidates of mixed kinds', () => {
    const { app, env } = setup();
    const [iris] = twoModels(env);
    const p = Pipeline.fromName(env, 'P', 'iris-pipeline');
    new Experiment(env, 'ab', {
      candidates: [
        { target: iris, weight: 1 },
        { target: p, weight: 1 },
      ],
    });
    expect(problems(app)).toEqual([
      "prod/ab candidates[1].target: is a Pipeline but the experiment's first target is a Model: candidates and mirror must be all models or all pipelines",
    ]);
  });

  it('reports a mirror that is also a candidate or has a bad percentage', () => {
    const { app, env } = setup();
    const [iris, iris2] = twoModels(env);
    new Experiment(env, 'a', {
      candidates: [{ target: iris, weight: 1 }],
      mirror: { target: iris, percent: 10 },
    });
    new Experiment(env, 'b', {
      candidates: [{ target: iris, weight: 1 }],
      mirror: { target: iris2, percent: 150 },
    });
    expect(problems(app)).toEqual([
      'prod/a mirror.target: the mirror is also a candidate',
      'prod/b mirror.percent: is not a percentage',
    ]);
  });
});

describe('placement feasibility', () => {
  it('reports requirements no server of the namespace provides', () => {
    const { app, env } = setup();
    new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
    model(env, 'resnet', { requirements: ['pytorch'] });
    expect(collectFindings(app)).toEqual([
      {
        path: 'prod/resnet',
        field: 'requirements',
        value: ['pytorch'],
        message: `no Server in namespace "prod" provides all of them; servers: mlserver (${ServerConfig.MLSERVER.capabilities?.join(', ')})`,
        fix: 'add a Server (or capabilities to one) that provides them, or change the requirements/modelType',
      },
    ]);
  });

  it('counts modelType as a requirement', () => {
    const { app, env } = setup();
    new Server(env, 'triton', { serverConfig: ServerConfig.TRITON });
    model(env, 'iris', { modelType: 'sklearn' });
    expect(problems(app)).toEqual([
      `prod/iris requirements: no Server in namespace "prod" provides all of them; servers: triton (${ServerConfig.TRITON.capabilities?.join(', ')})`,
    ]);
  });

  it('reports memory larger than every matching server can hold with over-commit', () => {
    const { app, env } = setup();
    new Server(env, 'small', {
      serverConfig: ServerConfig.MLSERVER,
      memory: '1Gi',
      overCommitPercentage: 10,
    });
    new Server(env, 'medium', {
      serverConfig: ServerConfig.MLSERVER,
      memory: Size.gibibytes(2),
      overCommitPercentage: 20,
    });
    new Server(env, 'huge-triton', { serverConfig: ServerConfig.TRITON, memory: '64Gi' });
    model(env, 'llm', { requirements: ['huggingface'], memory: '3Gi' });
    model(env, 'fits', { requirements: ['huggingface'], memory: '2.25Gi' });
    expect(collectFindings(app)).toEqual([
      {
        path: 'prod/llm',
        field: 'memory',
        value: '3Gi',
        message:
          'is more than the largest matching server, "medium", can hold (2Gi + 20% over-commit = 2.4Gi)',
        fix: "lower the model's memory, or raise the server's memory or overCommitPercentage",
      },
    ]);
  });

  it('reports a pinned server that lacks the requirements, or is too small', () => {
    const { app, env } = setup();
    const triton = new Server(env, 'triton', { serverConfig: ServerConfig.TRITON });
    new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
    model(env, 'iris', { requirements: ['sklearn'], server: triton });
    model(env, 'onnx', { requirements: ['onnx'], server: triton, memory: '2G' });
    expect(problems(app)).toEqual([
      `prod/iris server: pinned server lacks the requirements sklearn (it advertises ${ServerConfig.TRITON.capabilities?.join(', ')})`,
      'prod/onnx memory: is more than server "triton" can hold (953.67Mi + 10% over-commit = 1.02Gi)',
    ]);
  });

  it('reports models needing more replicas than any matching server can run', () => {
    const { app, env } = setup();
    const fixed = new Server(env, 'fixed', { serverConfig: ServerConfig.MLSERVER, replicas: 2 });
    new Server(env, 'scaling', { serverConfig: ServerConfig.MLSERVER, replicas: 1, maxReplicas: 3 });
    model(env, 'too-many', { requirements: ['sklearn'], replicas: 4 });
    model(env, 'partial', { requirements: ['sklearn'], replicas: 4, minReplicas: 3 });
    model(env, 'pinned', { requirements: ['sklearn'], replicas: 3, server: fixed });
    expect(collectFindings(app).map((f) => [f.path, f.field, f.value, f.message])).toEqual([
      [
        'prod/pinned',
        'replicas',
        3,
        'needs 3 replicas but server "fixed" runs at most 2 (one model replica per server replica)',
      ],
      [
        'prod/too-many',
        'replicas',
        4,
        'needs 4 replicas but the largest matching server, "scaling", runs at most 3 (one model replica per server replica)',
      ],
    ]);
  });

  it('requires the alibi-explain capability for explainers', () => {
    const { app, env } = setup();
    new Server(env, 'triton', { serverConfig: ServerConfig.TRITON });
    const onnx = model(env, 'onnx', { requirements: ['onnx'] });
    const explainer = model(env, 'explainer', { explainer: { type: 'anchor_tabular', target: onnx } });
    expect(explainer.effectiveRequirements).toEqual(['alibi-explain']);
    expect(problems(app)).toEqual([
      `prod/explainer requirements: no Server in namespace "prod" provides all of them; servers: triton (${ServerConfig.TRITON.capabilities?.join(', ')})`,
    ]);
  });

  it('trusts servers declared elsewhere and namespaces without servers', () => {
    const app = new App({ outdir: 'unused' });
    const withExternal = new Environment(app, 'a', { namespace: 'a' });
    new Server(withExternal, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
    Server.fromName(withExternal, 'Gpu', 'gpu');
    model(withExternal, 'resnet', { requirements: ['pytorch'], memory: '100Gi' });
    const pinned = new Environment(app, 'b', { namespace: 'b' });
    new Server(pinned, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
    model(pinned, 'resnet', { requirements: ['pytorch'], server: Server.fromName(pinned, 'Gpu', 'gpu') });
    const noServers = new Environment(app, 'c', { namespace: 'c' });
    model(noServers, 'resnet', { requirements: ['pytorch'] });
    expect(problems(app)).toEqual([]);
  });

  it('only considers servers of the model’s namespace', () => {
    const app = new App({ outdir: 'unused' });
    const dev = new Environment(app, 'dev', { namespace: 'dev' });
    const prod = new Environment(app, 'prod', { namespace: 'prod' });
    new Server(dev, 'triton', { serverConfig: ServerConfig.TRITON });
    new Server(prod, 'mlserver', { serverConfig: ServerConfig.MLSERVER });
    model(prod, 'resnet', { requirements: ['pytorch'] });
    const devServer = new Server(dev, 'gpu', { serverConfig: ServerConfig.TRITON });
    model(prod, 'pinned', { requirements: ['pytorch'], server: devServer });
    expect(problems(app).map((p) => p.split(':')[0])).toEqual([
      'prod/pinned server',
      'prod/resnet requirements',
    ]);
  });
});
