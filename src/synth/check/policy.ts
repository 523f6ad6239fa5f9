// Workload policy: Pod Security Standards "restricted", requests/limits, probes, pinned image
// tags, and no secret values in Git.
import { type Credential, findCredentials } from '../../spec/credentials.ts';
import { ACCEPTED_POLICY_PREFIX, isAcceptablePolicyCheck } from '../../spec/policy.ts';
import type { KubeObject } from '../../spec/types.ts';
import type { CheckedObject, Finding } from './findings.ts';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

interface PodSpecAt {
  spec: Obj;
  path: string;
  /** Jobs run to completion: no liveness/readiness probes expected. */
  runsToCompletion: boolean;
}

/** Where each kind keeps its pod spec. */
function podSpecs(o: KubeObject): PodSpecAt[] {
  const spec = obj(o.spec);
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  if (group === '' && o.kind === 'Pod') return [{ spec, path: 'spec', runsToCompletion: false }];
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(o.kind) && group === 'apps') {
    return [{ spec: obj(obj(spec.template).spec), path: 'spec.template.spec', runsToCompletion: false }];
  }
  if (o.kind === 'Job' && group === 'batch') {
    return [{ spec: obj(obj(spec.template).spec), path: 'spec.template.spec', runsToCompletion: true }];
  }
  if (o.kind === 'CronJob' && group === 'batch') {
    const tpl = obj(obj(obj(spec.jobTemplate).spec).template).spec;
    return [{ spec: obj(tpl), path: 'spec.jobTemplate.spec.template.spec', runsToCompletion: true }];
  }
  // A ServerConfig's pod spec is the inference server's pod, so the same rules apply.
  if (o.kind === 'ServerConfig' && group === 'mlops.seldon.io')
    return [{ spec: obj(spec.podSpec), path: 'spec.podSpec', runsToCompletion: false }];
  return [];
}

const ALLOWED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
  'name',
]);

export function checkPolicy(objects: CheckedObject[]): Finding[] {
  return objects.flatMap((m) => withAcceptances(m, objectFindings(m)));
}

/**
 * The findings an object's `review.cdk8s-mlops.io/accept-<check>` annotations leave: accepted
 * checks drop out; an acceptance without a reason, of a check that cannot be accepted, or of a
 * check that no longer fires is itself a finding, so exceptions stay few and explained.
 */
function withAcceptances(m: CheckedObject, findings: Finding[]): Finding[] {
  const out: Finding[] = [];
  const accepted = new Set<string>();
  for (const [key, reason] of Object.entries(m.object.metadata.annotations ?? {})) {
    if (!key.startsWith(ACCEPTED_POLICY_PREFIX)) continue;
    const check = key.slice(ACCEPTED_POLICY_PREFIX.length);
    const report = (message: string) =>
      out.push({
        file: m.file,
        object: objectName(m.object),
        path: `metadata.annotations.${key}`,
        rule: 'policy',
        check: 'acceptance',
        message,
      });
    if (!isAcceptablePolicyCheck(check))
      report(`"${check}" is not a policy check an object may accept; remove the annotation`);
    else if (!String(reason ?? '').trim())
      report(`accepting ${check} needs a reason reviewers can read; write it as the annotation's value`);
    else if (!findings.some((f) => f.check === check))
      report(`${check} is accepted but no longer fires; remove the annotation`);
    else accepted.add(check);
  }
  return [...findings.filter((f) => !accepted.has(f.check)), ...out];
}

function objectName(o: KubeObject): string {
  const ns = o.metadata.namespace;
  return `${o.kind} ${ns ? `${ns}/` : ''}${o.metadata.name}`;
}

/** What the policy finds in one object, acceptances aside. */
function objectFindings(m: CheckedObject): Finding[] {
  const findings: Finding[] = [];
  const o = m.object;
  const object = objectName(o);
  const report = (path: string, check: string, message: string) =>
    findings.push({ file: m.file, object, path, rule: 'policy', check, message });

  const secret = o.kind === 'Secret' && o.apiVersion === 'v1';
  // A Secret's data is reported as a whole below; everywhere else each credential is.
  const { data: _d, stringData: _s, ...scanned } = o as Obj;
  for (const c of findCredentials(secret ? scanned : o))
    report(c.path, 'secret-in-git', credentialMessage(c, o.kind));
  if (secret) {
    for (const field of ['data', 'stringData']) {
      const keys = Object.keys(obj(o[field]));
      if (keys.length) {
        report(
          field,
          'secret-in-git',
          `Secret values are stored in the manifest (${keys.join(', ')}), readable by anyone with the repository (base64 is not encryption); use an ExternalSecret, SealedSecret or SOPS, or create the Secret out of band`,
        );
      }
    }
  }

  for (const { spec, path, runsToCompletion } of podSpecs(o)) {
    const pod = obj(spec.securityContext);
    for (const k of ['hostNetwork', 'hostPID', 'hostIPC']) {
      if (spec[k] === true)
        report(
          `${path}.${k}`,
          'pss-host-namespaces',
          `${k} is forbidden by the restricted Pod Security Standard; remove it`,
        );
    }
    list(spec.volumes).forEach((v, i) => {
      const bad = Object.keys(v).filter((k) => !ALLOWED_VOLUMES.has(k));
      if (bad.length)
        report(
          `${path}.volumes[${i}]`,
          'pss-volume-type',
          `volume type ${bad.join(', ')} is not allowed by the restricted Pod Security Standard; use a persistentVolumeClaim, configMap, secret, emptyDir or projected volume`,
        );
    });
    const groups: Array<[string, boolean]> = [
      ['containers', true],
      ['initContainers', false],
      ['ephemeralContainers', false],
    ];
    for (const [field, longRunning] of groups) {
      list(spec[field]).forEach((c, i) => {
        const at = `${path}.${field}[${i}]`;
        const name = typeof c.name === 'string' ? c.name : String(i);
        securityContextProblems(c, at, name, pod, report);
        containerHygiene(
          c,
          at,
          name,
          { resources: field !== 'ephemeralContainers', probes: longRunning && !runsToCompletion },
          report,
        );
      });
    }
  }
  return findings;
}

type Report = (path: string, check: string, message: string) => void;

/** The restricted Pod Security Standard, for one container (`pod` is the pod securityContext). */
function securityContextProblems(c: Obj, at: string, name: string, pod: Obj, report: Report): void {
  const sc = obj(c.securityContext);
  const eff = (k: string) => (sc[k] !== undefined ? sc[k] : pod[k]);
  if (sc.privileged === true)
    report(
      `${at}.securityContext.privileged`,
      'pss-privileged',
      `container ${name} is privileged; remove privileged: true`,
    );
  if (sc.allowPrivilegeEscalation !== false) {
    report(
      `${at}.securityContext.allowPrivilegeEscalation`,
      'pss-privilege-escalation',
      `container ${name} must set securityContext.allowPrivilegeEscalation: false`,
    );
  }
  if (eff('runAsNonRoot') !== true)
    report(
      `${at}.securityContext.runAsNonRoot`,
      'pss-run-as-non-root',
      `container ${name} must run as non-root: set runAsNonRoot: true (pod or container securityContext)`,
    );
  if (eff('runAsUser') === 0)
    report(
      `${at}.securityContext.runAsUser`,
      'pss-run-as-non-root',
      `container ${name} runs as UID 0; use a non-zero runAsUser`,
    );
  const seccomp = obj(eff('seccompProfile')).type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
    report(
      `${at}.securityContext.seccompProfile`,
      'pss-seccomp',
      `container ${name} needs seccompProfile.type RuntimeDefault (or Localhost), in the pod or container securityContext`,
    );
  }
  const caps = obj(sc.capabilities);
  const drop = Array.isArray(caps.drop) ? caps.drop : [];
  if (!drop.includes('ALL'))
    report(
      `${at}.securityContext.capabilities.drop`,
      'pss-capabilities',
      `container ${name} must drop ALL capabilities (capabilities.drop: [ALL])`,
    );
  const add = (Array.isArray(caps.add) ? caps.add : []).filter((x) => x !== 'NET_BIND_SERVICE');
  if (add.length)
    report(
      `${at}.securityContext.capabilities.add`,
      'pss-capabilities',
      `container ${name} adds ${add.join(', ')}; only NET_BIND_SERVICE is allowed`,
    );
  list(c.ports).forEach((p, j) => {
    if (p.hostPort !== undefined && p.hostPort !== 0)
      report(
        `${at}.ports[${j}].hostPort`,
        'pss-host-ports',
        `container ${name} uses hostPort ${p.hostPort}; remove it`,
      );
  });
}

/** Pinned images, resources and probes, for one container. */
function containerHygiene(
  c: Obj,
  at: string,
  name: string,
  expect: { resources: boolean; probes: boolean },
  report: Report,
): void {
  if (typeof c.image === 'string') {
    const image = c.image;
    const lastPart = image.slice(image.lastIndexOf('/') + 1);
    const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : undefined;
    if (!image.includes('@') && (tag === undefined || tag === 'latest')) {
      report(
        `${at}.image`,
        'image-tag',
        `container ${name} image "${image}" ${tag ? 'uses the mutable tag latest' : 'has no tag (means latest)'}; pin a version tag or digest`,
      );
    }
  }

  if (expect.resources) {
    const res = obj(c.resources);
    const missing = [
      ['requests', 'cpu'],
      ['requests', 'memory'],
      ['limits', 'memory'],
    ].filter(([b, r]) => obj(res[b])[r] === undefined);
    if (missing.length) {
      report(
        `${at}.resources`,
        'resources',
        `container ${name} has no ${missing.map(([b, r]) => `${r} ${b === 'limits' ? 'limit' : 'request'}`).join(', ')}; set them so the scheduler can place it and it cannot starve its neighbours`,
      );
    }
  }
  if (expect.probes) {
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      if (c[probe] === undefined) report(`${at}.${probe}`, 'probes', `container ${name} has no ${probe}`);
    }
  }
}

/** What a literal credential is and where it should come from instead (never the value). */
function credentialMessage(c: Credential, kind: string): string {
  const risk = 'readable by anyone with the repository';
  if (c.shape === 'uri')
    return `a ${c.name}:// URI holds a user name and password, ${risk}; take them out of the URI and pass them from a Secret reference (valueFrom.secretKeyRef, or the Secret the component reads credentials from)`;
  if (c.shape === 'flag')
    return `the value of flag ${c.name} is a literal credential, ${risk}; use a Secret reference: an env var with valueFrom.secretKeyRef, passed as $(VAR)`;
  if (/\.env\[\d+\]\.value$/.test(c.path))
    return `env ${c.name} holds a literal secret, ${risk}; use a Secret reference (valueFrom.secretKeyRef)`;
  if (kind === 'ConfigMap')
    return `${c.name} looks like a credential stored in a ConfigMap, ${risk}; move it to a Secret created out of band and reference it`;
  return `${c.name} holds a literal credential, ${risk}; use a Secret reference instead (for a Model, spec.secretName)`;
}
