/**
 * NetworkPolicies: every runtime pod of a namespace denies all traffic by default; each
 * component then allows exactly the flows it serves or needs.
 */
import type { Construct } from 'constructs';
import { INSTANCE_LABEL, PART_OF_LABEL } from '../../spec/annotations.ts';
import { PORTS } from '../../spec/ports.ts';
import { k8s } from './kplus.ts';
import { PART_OF, selectorLabels } from './workload.ts';

const tcp = (...ports: number[]): k8s.NetworkPolicyPort[] =>
  ports.map((port) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) }));
const from = (instance: string, ...components: string[]): k8s.NetworkPolicyPeer[] =>
  components.map((c) => ({ podSelector: { matchLabels: selectorLabels(c, instance) } }));
/**
 * Who may reach admin and health ports (`/metrics` is there): Prometheus pods, in whatever
 * namespace they run. The kubelet's probes and hooks come from the node and need no rule; drain
 * and status calls from other pods have no business there.
 */
const SCRAPERS: k8s.NetworkPolicyPeer[] = [
  { namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
];

type Rules = Pick<k8s.NetworkPolicySpec, 'ingress' | 'egress'>;

function policy(
  scope: Construct,
  id: string,
  name: string,
  podSelector: Record<string, string>,
  rules: Rules,
): void {
  const types = [...(rules.ingress ? ['Ingress'] : []), ...(rules.egress ? ['Egress'] : [])];
  // An empty rule list is left out: the apiserver stores it as absent, and writing `[]` would
  // change the object's generation on every apply (the policy type alone denies everything).
  const written = Object.fromEntries(Object.entries(rules).filter(([, list]) => list && list.length > 0));
  new k8s.KubeNetworkPolicy(scope, id, {
    metadata: { name },
    spec: { podSelector: { matchLabels: podSelector }, policyTypes: types, ...written },
  });
}

/** Default deny for all runtime pods of the instance, plus DNS for all of them. */
export function baselinePolicies(scope: Construct, prefix: string, instance: string): void {
  const all = { [PART_OF_LABEL]: PART_OF, [INSTANCE_LABEL]: instance };
  policy(scope, 'DenyAll', `${prefix}-default-deny`, all, { ingress: [], egress: [] });
  policy(scope, 'AllowDns', `${prefix}-allow-dns`, all, {
    egress: [{ ports: [...tcp(53), { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) }] }],
  });
}

export function schedulerPolicy(scope: Construct, name: string, instance: string): void {
  policy(scope, 'NetworkPolicy', name, selectorLabels('scheduler', instance), {
    ingress: [
      { from: from(instance, 'server', 'gateway'), ports: tcp(PORTS.scheduler) },
      { from: SCRAPERS, ports: tcp(PORTS.schedulerHealth) },
    ],
    // The Kubernetes API: its address depends on the cluster, its port is 443 or 6443.
    egress: [{ ports: tcp(443, 6443) }],
  });
}

export function gatewayPolicy(scope: Construct, name: string, instance: string, dataflow: boolean): void {
  policy(scope, 'NetworkPolicy', name, selectorLabels('gateway', instance), {
    // The inference ingress: clients anywhere.
    ingress: [{ ports: tcp(PORTS.gatewayHttp, PORTS.gatewayGrpc) }],
    egress: [
      { to: from(instance, 'server'), ports: tcp(PORTS.agentHttp, PORTS.agentGrpc) },
      { to: from(instance, 'scheduler'), ports: tcp(PORTS.scheduler) },
      ...(dataflow
        ? [{ to: from(instance, 'dataflow'), ports: tcp(PORTS.dataflowHttp, PORTS.dataflowGrpc) }]
        : []),
    ],
  });
}

export function dataflowPolicy(scope: Construct, name: string, instance: string, kafkaPorts: number[]): void {
  policy(scope, 'NetworkPolicy', name, selectorLabels('dataflow', instance), {
    ingress: [{ from: from(instance, 'gateway'), ports: tcp(PORTS.dataflowHttp, PORTS.dataflowGrpc) }],
    egress: [
      { to: from(instance, 'gateway'), ports: tcp(PORTS.gatewayGrpc) },
      // Brokers may be anywhere (another namespace, a managed service): only their ports are known.
      { ports: tcp(...kafkaPorts) },
      // The Kubernetes API (its Pipelines are watched): 443 or 6443.
      { ports: tcp(443, 6443) },
    ],
  });
}

export function serverNetworkPolicy(
  scope: Construct,
  name: string,
  podSelector: Record<string, string>,
  instance: string,
): void {
  policy(scope, 'NetworkPolicy', name, podSelector, {
    ingress: [
      { from: from(instance, 'gateway'), ports: tcp(PORTS.agentHttp, PORTS.agentGrpc) },
      { from: SCRAPERS, ports: tcp(PORTS.agentAdmin) },
    ],
    egress: [
      { to: from(instance, 'scheduler'), ports: tcp(PORTS.scheduler) },
      // Explainers and LLM models call their targets through the gateway.
      { to: from(instance, 'gateway'), ports: tcp(PORTS.gatewayHttp) },
      // Artifact downloads (object stores, http(s)://) and storage Secrets (the Kubernetes API).
      { ports: tcp(80, 443, 6443) },
    ],
  });
}
