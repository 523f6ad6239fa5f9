/**
 * Pipelines: two models run on the same request and their outputs are joined into a third,
 * with the tensors renamed on the way in; an audit model runs only when the request carries a
 * trigger tensor; a second pipeline consumes the first one's result.
 */
import { Environment, JoinType, MlopsApp, Model, Pipeline, Runtime, Server, ServerConfig } from 'cdk8s-mlops';

const app = new MlopsApp();
const env = new Environment(app, 'pipelines', { namespace: 'ml-pipelines' });

// Pipelines run over Kafka: the dataflow engine gets the brokers and creates its topics.
new Runtime(env, 'runtime', {
  kafka: { bootstrapServers: ['kafka-bootstrap.kafka:9092'], partitions: 3, replicationFactor: 3 },
});

const mlserver = new Server(env, 'mlserver', { serverConfig: ServerConfig.MLSERVER, memory: '2Gi' });

// Every step is the same small Python model on MLServer: OUTPUT0 = INPUT0 + INPUT1 and
// OUTPUT1 = INPUT0 - INPUT1 (INT32[n,16]), the arithmetic of Triton's `simple` sample.
// `npm run models` writes its artifact to models/my-models/add-sub for `mlops dev`.
const addSub = (name: string) =>
  new Model(env, name, {
    storageUri: 'gs://my-models/add-sub',
    requirements: ['python'],
    memory: '10Mi',
    server: mlserver,
    tensors: { inputs: ['INPUT0', 'INPUT1'], outputs: ['OUTPUT0', 'OUTPUT1'] },
  });
const first = addSub('add-sub-1');
const second = addSub('add-sub-2');
const combiner = addSub('add-sub-3');
const audit = addSub('audit');

const join = new Pipeline(env, 'join', {
  inputTensors: ['INPUT0', 'INPUT1', 'audit'],
  output: { steps: [combiner] },
});
join.addStep(first, { inputs: [join.inputs('INPUT0'), join.inputs('INPUT1')] });
join.addStep(second, { inputs: [join.inputs('INPUT0'), join.inputs('INPUT1')] });
// (INPUT0 + INPUT1) + (INPUT0 - INPUT1) = 2 × INPUT0, and their difference 2 × INPUT1.
join.addStep(combiner, {
  inputs: [first.outputs('OUTPUT0'), second.outputs('OUTPUT1')],
  tensorMap: [
    { from: first.outputs('OUTPUT0'), to: 'INPUT0' },
    { from: second.outputs('OUTPUT1'), to: 'INPUT1' },
  ],
  inputsJoinType: JoinType.INNER,
  joinWindowMs: 2_000,
});
join.addStep(audit, {
  inputs: [join.inputs('INPUT0'), join.inputs('INPUT1')],
  triggers: [join.inputs('audit')],
});

// A second pipeline that consumes the first one's result.
const postprocess = addSub('add-sub-4');
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
