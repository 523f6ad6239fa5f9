/**
 * A multi-model fleet: MLServer and Triton servers sized for over-commit, several models, an
 * A/B test between two iris versions (with the current one as the default endpoint) and a
 * shadow model that sees a copy of a share of the traffic.
 */
import { Size } from 'cdk8s';
import { Environment, Experiment, MlopsApp, Model, Runtime, Server, ServerConfig } from 'cdk8s-mlops';

const app = new MlopsApp();
const env = new Environment(app, 'fleet', { namespace: 'ml-fleet' });

// The gateway scales with traffic; server pods keep downloaded models across restarts.
new Runtime(env, 'runtime', {
  gateway: { minReplicas: 2, maxReplicas: 6 },
  modelCache: { size: '50Gi', persistent: true },
});

new Server(env, 'mlserver', {
  serverConfig: ServerConfig.MLSERVER,
  replicas: 3,
  minReplicas: 2,
  maxReplicas: 6,
  memory: Size.gibibytes(4),
  // Models may claim 30% more than the replica holds; the least recently used are evicted.
  overCommitPercentage: 30,
});

const triton = new Server(env, 'triton', {
  serverConfig: ServerConfig.TRITON,
  replicas: 2,
  memory: Size.gibibytes(8),
});

const irisV1 = new Model(env, 'iris', {
  storageUri: 'gs://seldon-models/scv2/samples/mlserver_1.6.0/iris-sklearn',
  requirements: ['sklearn'],
  memory: '100Ki',
  replicas: 2,
});

const irisV2 = new Model(env, 'iris2', {
  storageUri: 'gs://seldon-models/scv2/samples/mlserver_1.6.0/iris-sklearn-v2',
  requirements: ['sklearn'],
  memory: '100Ki',
});

const irisXgb = new Model(env, 'iris-xgboost', {
  storageUri: 'gs://seldon-models/scv2/samples/mlserver_1.6.0/iris-xgboost',
  requirements: ['xgboost'],
  memory: '2Mi',
});

new Model(env, 'income', {
  storageUri: 'gs://seldon-models/scv2/samples/mlserver_1.6.0/income-sklearn/classifier',
  requirements: ['sklearn'],
  memory: '50Mi',
  minReplicas: 1,
  replicas: 2,
  maxReplicas: 4,
});

// A TensorFlow model: pinned to the Triton server (mlops dev, which runs MLServer only, says so).
new Model(env, 'cifar10', {
  storageUri: 'gs://seldon-models/scv2/samples/tensorflow/cifar10',
  requirements: ['tensorflow'],
  memory: Size.gibibytes(1),
  server: triton,
});

// 80/20 split on iris's own endpoint; 10% of requests are also sent to the xgboost variant.
new Experiment(env, 'iris-ab', {
  candidates: [
    { target: irisV1, weight: 80 },
    { target: irisV2, weight: 20 },
  ],
  default: irisV1,
  mirror: { target: irisXgb, percent: 10 },
});

app.synth();
