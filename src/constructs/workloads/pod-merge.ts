/**
 * Builds a server pod from a configuration's pod spec and a Server's overrides the way Seldon
 * merges them (containers, env, volumes and mounts by name), then hardens every container.
 */
import { type Json, restrictedContainerSecurity } from './workload.ts';

function byKey(key: string, base: Json[] = [], over: Json[] = []): Json[] {
  const out = base.map((b) => over.find((o) => o[key] === b[key]) ?? b);
  for (const o of over) if (!base.some((b) => b[key] === o[key])) out.push(o);
  return out;
}

function mergeMaps(a: Json | undefined, b: Json | undefined): Json | undefined {
  return a || b ? { ...(a ?? {}), ...(b ?? {}) } : undefined;
}

export function mergeContainer(base: Json, over: Json): Json {
  const out: Json = { ...base, ...over };
  if (base.env || over.env) out.env = byKey('name', base.env, over.env);
  if (base.volumeMounts || over.volumeMounts)
    out.volumeMounts = byKey('mountPath', base.volumeMounts, over.volumeMounts);
  if (base.resources || over.resources) {
    out.resources = {
      ...(base.resources ?? {}),
      ...(over.resources ?? {}),
      requests: mergeMaps(base.resources?.requests, over.resources?.requests),
      limits: mergeMaps(base.resources?.limits, over.resources?.limits),
    };
  }
  out.securityContext = mergeMaps(base.securityContext, over.securityContext);
  return out;
}

/** `over` merged onto `base`: pod fields replaced, containers and volumes merged by name. */
export function mergePodSpec(base: Json, over: Json | undefined): Json {
  if (!over) return base;
  const out: Json = { ...base, ...over };
  out.containers = mergeContainers(base.containers, over.containers);
  if (base.initContainers || over.initContainers)
    out.initContainers = mergeContainers(base.initContainers, over.initContainers);
  if (base.volumes || over.volumes) out.volumes = byKey('name', base.volumes, over.volumes);
  out.securityContext = mergeMaps(base.securityContext, over.securityContext);
  return out;
}

function mergeContainers(base: Json[] = [], over: Json[] = []): Json[] {
  const out = base.map((b) => {
    const o = over.find((c) => c.name === b.name);
    return o ? mergeContainer(b, o) : b;
  });
  for (const o of over) if (!base.some((b) => b.name === o.name)) out.push(o);
  return out;
}

/**
 * The "restricted" settings a container lacks, filled in; what it declares itself is kept (a
 * deliberate `readOnlyRootFilesystem: false`, say).
 */
export function hardenContainer(container: Json, runAsUser?: number): Json {
  const declared = container.securityContext ?? {};
  return { ...container, securityContext: { ...restrictedContainerSecurity(runAsUser), ...declared } };
}

/**
 * The settings the restricted Pod Security Standard requires, filled in where a pod spec lacks
 * them (non-root, RuntimeDefault seccomp; per container no privilege escalation, no
 * capabilities); what it declares itself is kept. For pods of images we do not know, so neither
 * a user id nor a read-only root filesystem is imposed.
 */
export function hardenPodSpec(spec: Json): Json {
  const container = (c: Json): Json => ({
    ...c,
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      ...(c.securityContext ?? {}),
    },
  });
  const out: Json = {
    ...spec,
    securityContext: {
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
      ...(spec.securityContext ?? {}),
    },
  };
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    if (Array.isArray(spec[field])) out[field] = spec[field].map(container);
  }
  return out;
}
