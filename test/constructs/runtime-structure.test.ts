// Cross-object consistency of what the runtime target synthesizes, in the spirit of kube-linter's
// default checks (which need a binary this test does not): selectors, ports, names and volumes
// that one object uses must exist in the others.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadApp } from '../../src/synth/load-apps.ts';
import { synthesizeObjects } from '../../src/synth/synthesize.ts';
import type { Json } from './helpers.ts';
import { everyOptionApp } from './runtime-every-option.ts';

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Every inconsistency among one namespace's objects, as readable lines. */
function inconsistencies(objects: Json[]): string[] {
  const out: string[] = [];
  const id = (o: Json) => `${o.kind}/${o.metadata.name}`;
  const named = (kind: string, name: string) =>
    objects.some((o) => o.kind === kind && o.metadata.name === name);
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
  const pods = workloads.map((w) => ({
    owner: w,
    labels: w.spec.template.metadata.labels,
    spec: w.spec.template.spec,
  }));
  const podsMatching = (selector: Record<string, string>) => pods.filter((p) => matches(selector, p.labels));
  const hpaTargets = new Set(
    objects
      .filter((o) => o.kind === 'HorizontalPodAutoscaler')
      .map((h) => `${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}`),
  );

  for (const w of workloads) {
    if (!matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels))
      out.push(`${id(w)}: selector does not match its pod labels`);
    const spec = w.spec.template.spec;
    if (spec.serviceAccountName && !named('ServiceAccount', spec.serviceAccountName))
      out.push(`${id(w)}: service account ${spec.serviceAccountName} does not exist`);
    if (w.kind === 'StatefulSet' && !named('Service', w.spec.serviceName))
      out.push(`${id(w)}: governing Service ${w.spec.serviceName} does not exist`);
    const replicas = w.spec.replicas;
    if (
      (replicas === undefined ? hpaTargets.has(id(w)) || w.kind === 'StatefulSet' : replicas > 1) &&
      !spec.affinity?.podAntiAffinity
    )
      out.push(`${id(w)}: several replicas without pod anti-affinity`);
    const volumes = new Set([
      ...(spec.volumes ?? []).map((v: Json) => v.name),
      ...(w.spec.volumeClaimTemplates ?? []).map((c: Json) => c.metadata.name),
    ]);
    for (const v of spec.volumes ?? []) {
      if (v.configMap && !named('ConfigMap', v.configMap.name))
        out.push(`${id(w)}: ConfigMap ${v.configMap.name} does not exist`);
    }
    for (const c of spec.containers) {
      const ports: Json[] = c.ports ?? [];
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        const port = c[probe]?.httpGet?.port;
        if (port !== undefined && !ports.some((p) => p.name === port || p.containerPort === port))
          out.push(`${id(w)}/${c.name}: ${probe} port ${port} is not a container port`);
      }
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) out.push(`${id(w)}/${c.name}: volume ${m.name} does not exist`);
      }
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef && !named('ConfigMap', e.configMapRef.name))
          out.push(`${id(w)}/${c.name}: ConfigMap ${e.configMapRef.name} does not exist`);
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.resourceFieldRef?.containerName;
        if (ref && !spec.containers.some((x: Json) => x.name === ref))
          out.push(`${id(w)}/${c.name}: env ${e.name} refers to no container ${ref}`);
      }
    }
  }
  for (const s of objects.filter((o) => o.kind === 'Service')) {
    const selected = podsMatching(s.spec.selector);
    if (selected.length === 0) out.push(`${id(s)}: selects no pod`);
    for (const p of s.spec.ports) {
      const exists = selected.some((pod) =>
        pod.spec.containers.some((c: Json) =>
          (c.ports ?? []).some((cp: Json) => cp.name === p.targetPort || cp.containerPort === p.targetPort),
        ),
      );
      if (!exists)
        out.push(`${id(s)}: target port ${p.targetPort} is no container port of the selected pods`);
    }
  }
  for (const h of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const target = workloads.find(
      (w) => `${w.kind}/${w.metadata.name}` === `${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}`,
    );
    if (!target) out.push(`${id(h)}: target does not exist`);
    else if (target.spec.replicas !== undefined) out.push(`${id(h)}: its target also sets replicas`);
  }
  for (const b of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    if (podsMatching(b.spec.selector.matchLabels).length === 0) out.push(`${id(b)}: selects no pod`);
    if (b.spec.maxUnavailable === 0) out.push(`${id(b)}: allows no disruption`);
  }
  for (const n of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    if (podsMatching(n.spec.podSelector.matchLabels ?? {}).length === 0) out.push(`${id(n)}: selects no pod`);
    for (const rule of [...(n.spec.ingress ?? []), ...(n.spec.egress ?? [])]) {
      for (const peer of [...(rule.from ?? []), ...(rule.to ?? [])]) {
        // With a namespace selector the peer's pods live elsewhere (Prometheus, say).
        if (
          peer.podSelector &&
          !peer.namespaceSelector &&
          podsMatching(peer.podSelector.matchLabels).length === 0
        )
          out.push(`${id(n)}: peer ${JSON.stringify(peer.podSelector.matchLabels)} selects no pod`);
      }
    }
  }
  for (const r of objects.filter((o) => o.kind === 'RoleBinding')) {
    if (!named('Role', r.roleRef.name)) out.push(`${id(r)}: Role ${r.roleRef.name} does not exist`);
    for (const s of r.subjects)
      if (!named('ServiceAccount', s.name)) out.push(`${id(r)}: subject ${s.name} does not exist`);
  }
  return out;
}

function byNamespace(objects: Json[]): Json[][] {
  const groups = new Map<string, Json[]>();
  for (const o of objects) {
    const ns = o.metadata.namespace;
    if (ns) groups.set(ns, [...(groups.get(ns) ?? []), o]);
  }
  return [...groups.values()];
}

describe('runtime objects are consistent with each other', () => {
  it('the checks find a dangling reference', () => {
    const service = { kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'x' }, ports: [] } };
    expect(inconsistencies([service])).toEqual(['Service/s: selects no pod']);
  });

  it('with every Runtime and Server option', () => {
    const objects = synthesizeObjects(everyOptionApp()).map((o) => o.manifest as Json);
    expect(objects.filter((o) => o.kind === 'StatefulSet')).toHaveLength(3);
    for (const ns of byNamespace(objects)) expect(inconsistencies(ns)).toEqual([]);
  });

  const apps = readdirSync(new URL('../../apps/', import.meta.url)).filter((f) => f.endsWith('.ts'));
  it.each(apps)('in the example app %s', async (file) => {
    const app = await loadApp(new URL(`../../apps/${file}`, import.meta.url).pathname);
    const objects = synthesizeObjects(app).map((o) => o.manifest as Json);
    for (const ns of byNamespace(objects)) expect(inconsistencies(ns)).toEqual([]);
  });
});
