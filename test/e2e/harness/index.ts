// The end-to-end harness: start real components for a suite, stop them afterwards.

export { type AgentProcess, startAgentProcess } from './agent.ts';
export { cachePath, cacheRoot, distDir, pinnedVersion, repoRoot } from './cache.ts';
export {
  controlPlaneBinaries,
  type FakeNode,
  type KubeCluster,
  type KubectlResult,
  startKubeCluster,
} from './cluster.ts';
export { trainIrisModel } from './iris.ts';
export { type KafkaBroker, startKafka } from './kafka.ts';
export {
  type ApplyObject,
  applyCrds,
  type KubeApiserver,
  kubeBinaries,
  serverSideApply,
  startKubeApiserver,
} from './kube.ts';
export { type KubeScoreFinding, runKubeScore } from './kube-score.ts';
export { gluaBinary, type Health, luaLiteral, runHealthScript } from './lua.ts';
export { type MlserverInstance, mlserverVenv, startMlserver } from './mlserver.ts';
export { podToken } from './pod-token.ts';
export { freePort } from './ports.ts';
export { logTail, type ManagedProcess, pollUntil, startProcess, waitUntilReady } from './process.ts';
export {
  type PrometheusInstance,
  prometheusBinary,
  type QueryResult,
  type ScrapeTarget,
  startPrometheus,
} from './prometheus.ts';
export { describeE2E, e2eRequired, requireToolchain, type Tool } from './toolchain.ts';
