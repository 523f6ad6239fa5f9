/**
 * Default ports: what each runtime component listens on unless told otherwise, and what the
 * inference servers beside an agent listen on. The workloads, the network policies, the
 * components' flag defaults and the local `mlops dev` stack all read them here.
 */
export const PORTS = {
  /** Scheduler gRPC, for agents and gateways. */
  scheduler: 9004,
  /** Scheduler /live, /ready, /status, /metrics. */
  schedulerHealth: 9999,
  /** Gateway inference (Open Inference Protocol) over REST and gRPC. */
  gatewayHttp: 9000,
  gatewayGrpc: 9001,
  /** The dataflow engine's pipeline gateway. */
  dataflowHttp: 9010,
  dataflowGrpc: 9011,
  /** Agent inference proxy and its /live /ready /terminate /metrics. */
  agentHttp: 9001,
  agentGrpc: 9501,
  agentAdmin: 9008,
  /** The inference server in a Server pod, behind its agent. */
  serverHttp: 9000,
  serverGrpc: 9500,
  /** Metrics of the inference servers themselves. */
  mlserverMetrics: 8082,
  tritonMetrics: 8002,
} as const;
