/**
 * dev and prod from one function: the same stack in two namespaces, with per-environment
 * sizes. Adding staging is one more line.
 */
import { Size } from 'cdk8s';
import { Environment, Experiment, MlopsApp, Model, Runtime, Server, ServerConfig } from 'cdk8s-mlops';

interface StackProps {
  readonly namespace: string;
  readonly serverReplicas: number;
  readonly serverMemory: Size;
  readonly modelReplicas: number;
  /** Share of traffic for the candidate model, in percent. */
  readonly canaryPercent: number;
  /** Most gateway pods the autoscaler may run. */
  readonly maxGateways: number;
}

function servingStack(app: MlopsApp, id: string, props: StackProps): Environment {
  const env = new Environment(app, id, { namespace: props.namespace, labels: { environment: id } });
  new Runtime(env, 'runtime', { gateway: { minReplicas: 1, maxReplicas: props.maxGateways } });
  new Server(env, 'mlserver', {
    serverConfig: ServerConfig.MLSERVER,
    replicas: props.serverReplicas,
    memory: props.serverMemory,
  });
  const model = (name: string, uri: string) =>
    new Model(env, name, {
      storageUri: uri,
      requirements: ['sklearn'],
      memory: '100Ki',
      replicas: props.modelReplicas,
    });
  const current = model('iris', 'gs://seldon-models/scv2/samples/mlserver_1.6.0/iris-sklearn');
  const candidate = model('iris-candidate', 'gs://seldon-models/scv2/samples/mlserver_1.6.0/iris-sklearn-v2');
  new Experiment(env, 'iris-canary', {
    candidates: [
      { target: current, weight: 100 - props.canaryPercent },
      { target: candidate, weight: props.canaryPercent },
    ],
    default: current,
  });
  return env;
}

const app = new MlopsApp();
servingStack(app, 'dev', {
  namespace: 'ml-dev',
  serverReplicas: 1,
  serverMemory: Size.gibibytes(1),
  modelReplicas: 1,
  canaryPercent: 50,
  maxGateways: 2,
});
servingStack(app, 'prod', {
  namespace: 'ml-prod',
  serverReplicas: 3,
  serverMemory: Size.gibibytes(4),
  modelReplicas: 3,
  canaryPercent: 5,
  maxGateways: 8,
});
app.synth();
