/**
 * Pipelines: two models run on the same request and their outputs are joined into a third,
 * with the tensors renamed on the way in; a drift detector runs only when the request carries
 * a trigger tensor.
 */
import { Environment, JoinType, MlopsApp, Model, Pipeline, Runtime, Server, ServerConfig } from 'cdk8s-mlops';

const app = new MlopsApp();
const env = new Environment(app, 'pipelines', { namespace: 'ml-pipelines' });

// Pipelines run over Kafka: the dataflow engine gets the brokers and creates its topics.
new Runtime(env, 'runtime', {
  kafka: { bootstrapServers: ['kafka-bootstrap.kafka:9092'], partitions: 3, replicationFactor: 3 },
});

new Server(env, 'triton', { serverConfig: ServerConfig.TRITON, memory: '4Gi' });
new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, memory: '2Gi' });

const simple = (name: string) =>
  new Model(env, name, {
    storageUri: 'gs://seldon-models/triton/simple',
    requirements: ['tensorflow'],
    memory: '100Ki',
    tensors: { inputs: ['INPUT0', 'INPUT1'], outputs: ['OUTPUT0', 'OUTPUT1'] },
  });
const first = simple('tfsimple1');
const second = simple('tfsimple2');
const combiner = simple('tfsimple3');

const drift = new Model(env, 'drift-detector', {
  storageUri: 'gs://seldon-models/scv2/examples/mlserver_1.6.0/income/drift-detector',
  requirements: ['mlserver', 'alibi-detect'],
  memory: '20Mi',
});

const join = new Pipeline(env, 'join', {
  inputTensors: ['INPUT0', 'INPUT1', 'check-drift'],
  output: { steps: [combiner] },
});
join.addStep(first, { inputs: [join.inputs('INPUT0'), join.inputs('INPUT1')] });
join.addStep(second, { inputs: [join.inputs('INPUT0'), join.inputs('INPUT1')] });
join.addStep(combiner, {
  inputs: [first.outputs('OUTPUT0'), second.outputs('OUTPUT1')],
  tensorMap: [
    { from: first.outputs('OUTPUT0'), to: 'INPUT0' },
    { from: second.outputs('OUTPUT1'), to: 'INPUT1' },
  ],
  inputsJoinType: JoinType.INNER,
  joinWindowMs: 2_000,
});
join.addStep(drift, {
  inputs: [join.inputs('INPUT0')],
  triggers: [join.inputs('check-drift')],
});

// A second pipeline that consumes the first one's result.
const postprocess = simple('tfsimple4');
new Pipeline(env, 'join-extended', {
  steps: [{ model: postprocess }],
  input: {
    externalInputs: [join.outputs('OUTPUT0'), join.step(combiner).outputs('OUTPUT1')],
    tensorMap: [
      { from: join.outputs('OUTPUT0'), to: 'INPUT0' },
      { from: join.step(combiner).outputs('OUTPUT1'), to: 'INPUT1' },
    ],
  },
  output: { steps: [postprocess] },
});

app.synth();
