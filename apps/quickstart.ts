/**
 * Quickstart: one MLServer server and one scikit-learn model.
 *
 *   npx mlops synth --app apps/quickstart.ts   →   dist/quickstart/
 */
import { Size } from 'cdk8s';
import { Environment, MlopsApp, Model, Runtime, Server, ServerConfig } from 'cdk8s-mlops';

const app = new MlopsApp();
const env = new Environment(app, 'quickstart', { namespace: 'seldon-quickstart' });

// Scheduler, gateway and the server's pods; no pipelines here, so no Kafka.
new Runtime(env, 'runtime');

// Built-in MLServer configuration; each replica offers 2Gi to its models.
const mlserver = new Server(env, 'mlserver', {
  serverConfig: ServerConfig.MLSERVER,
  memory: Size.gibibytes(2),
});

new Model(env, 'iris', {
  storageUri: 'gs://seldon-models/scv2/samples/mlserver_1.6.0/iris-sklearn',
  requirements: ['sklearn'],
  memory: '100Ki',
  server: mlserver,
});

app.synth();
