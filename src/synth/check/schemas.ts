// Schema checks for every object: our CRDs for mlops kinds (strict), for other custom resources
// the CRDs found in the set or the schemas we ship (Strimzi KafkaTopic), both strict, and
// Kubernetes OpenAPI models for built-in kinds.
import { Ajv, type ValidateFunction } from 'ajv';
import { validateAgainstCrd } from '../../spec/crd-check.ts';
import { strictSchema } from '../../spec/crd-schemas.ts';
import { isMlopsApiVersion, isMlopsObject } from '../../spec/objects.ts';
import { THIRD_PARTY_SCHEMAS } from '../../spec/third-party-schemas.ts';
import { API_VERSION, type KubeObject, MLOPS_KINDS } from '../../spec/types.ts';
import { type CheckedObject, type Finding, pointerToPath } from './findings.ts';
import { checkEmbedded, checkKubeObject, type SchemaIssue } from './kube-schema.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface SchemaOptions {
  /** Report nothing (instead of a finding) for kinds with no known schema. */
  ignoreMissingSchemas?: boolean;
}

export function checkSchemas(objects: CheckedObject[], options: SchemaOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const crdValidators = validatorsFromCrds(objects.map((m) => m.object));
  for (const m of objects) {
    const o = m.object;
    const object = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
    const report = (path: string, check: string, message: string) =>
      findings.push({ file: m.file, object, path, rule: 'schema', check, message });

    if (isMlopsApiVersion(o.apiVersion)) {
      if (!isMlopsObject(o)) {
        report(
          'apiVersion',
          'unknown-kind',
          `${o.apiVersion} ${o.kind} is not a kind of ${API_VERSION} (${MLOPS_KINDS.join(', ')})`,
        );
        continue;
      }
      if (!DNS_LABEL.test(o.metadata.name) || o.metadata.name.length > 63) {
        report(
          'metadata.name',
          'name',
          `"${o.metadata.name}" is not a DNS-1123 label (lower-case letters, digits and '-', no dots, at most 63 characters)`,
        );
      }
      const reported = new Set<string>();
      for (const v of validateAgainstCrd(o)) {
        const extra = /^must NOT have additional properties '(.+)'$/.exec(v.message)?.[1];
        const [path, check] = extra
          ? [joinPath(pointerToPath(v.pointer), extra), 'unknown-field']
          : [pointerToPath(v.pointer), 'crd'];
        reported.add(path);
        report(path, check, extra ? unknownField(extra) : v.message);
      }
      // Below the fields our CRDs declare, embedded pod specs are checked as Kubernetes would.
      for (const i of embeddedIssues(o)) {
        if (!reported.has(i.path)) report(i.path, i.check, i.message);
      }
      continue;
    }
    const crd = crdValidators.get(`${o.apiVersion}/${o.kind}`);
    if (crd) {
      if (!crd(withoutMetadata(o))) {
        for (const e of crd.errors ?? []) {
          const path = pointerToPath(e.instancePath);
          if (e.keyword === 'additionalProperties') {
            const extra = (e.params as { additionalProperty: string }).additionalProperty;
            report(joinPath(path, extra), 'unknown-field', unknownField(extra));
          } else report(path, 'crd', e.message ?? 'invalid');
        }
      }
      continue;
    }
    const issues = checkKubeObject(o);
    if (issues) {
      for (const i of issues) report(i.path, i.check, i.message);
    } else if (!options.ignoreMissingSchemas) {
      report(
        '',
        'no-schema',
        `no schema known for ${o.apiVersion} ${o.kind}; include its CustomResourceDefinition in the set, or pass --ignore-missing-schemas`,
      );
    }
  }
  return findings;
}

/** Kubernetes structures inside mlops objects: pod specs and container overrides. */
function embeddedIssues(o: KubeObject): SchemaIssue[] {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  if (o.kind === 'ServerConfig' && spec.podSpec !== undefined)
    return checkEmbedded(spec.podSpec, 'V1PodSpec', 'spec.podSpec', false);
  if (o.kind !== 'Server') return [];
  // A Server's pod spec and image overrides are merged over its configuration's: parts only.
  const issues =
    spec.podSpec === undefined ? [] : checkEmbedded(spec.podSpec, 'V1PodSpec', 'spec.podSpec', true);
  const overrides = (spec.imageOverrides ?? {}) as Record<string, unknown>;
  for (const name of ['agent', 'rclone']) {
    if (overrides[name] !== undefined)
      issues.push(...checkEmbedded(overrides[name], 'V1Container', `spec.imageOverrides.${name}`, true));
  }
  return issues;
}

function withoutMetadata(o: KubeObject): KubeObject {
  return { ...o, metadata: { name: o.metadata.name } };
}

/**
 * Strict validators for custom resources other than ours: those whose definitions are part of
 * the set, and the other projects' resources synthesis emits (a definition in the set wins).
 */
function validatorsFromCrds(objects: KubeObject[]): Map<string, ValidateFunction> {
  const out = new Map(thirdPartyValidators());
  const crds = objects.filter(
    (o) => o.kind === 'CustomResourceDefinition' && o.apiVersion.startsWith('apiextensions.k8s.io/'),
  );
  if (crds.length === 0) return out;
  const ajv = newAjv();
  for (const crd of crds) {
    const spec = (crd.spec ?? {}) as {
      group?: string;
      names?: { kind?: string };
      versions?: { name: string; schema?: { openAPIV3Schema?: Record<string, unknown> } }[];
    };
    for (const v of spec.versions ?? []) {
      const schema = v.schema?.openAPIV3Schema;
      if (!schema || !spec.group || !spec.names?.kind) continue;
      try {
        out.set(`${spec.group}/${v.name}/${spec.names.kind}`, compileResource(ajv, schema));
      } catch {
        // An invalid schema is reported by the CRD's own schema check.
      }
    }
  }
  return out;
}

let thirdParty: Map<string, ValidateFunction> | undefined;

function thirdPartyValidators(): Map<string, ValidateFunction> {
  if (!thirdParty) {
    const ajv = newAjv();
    thirdParty = new Map(
      THIRD_PARTY_SCHEMAS.map((s) => [`${s.apiVersion}/${s.kind}`, compileResource(ajv, s.schema)]),
    );
  }
  return thirdParty;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('int32', true).addFormat('int64', true).addFormat('date-time', true).addFormat('byte', true);
  return ajv;
}

/** A custom resource's schema, closed, with the implicit apiVersion, kind and metadata. */
function compileResource(ajv: Ajv, schema: Record<string, unknown>): ValidateFunction {
  const implicit = {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
  };
  const closed = strictSchema({
    ...schema,
    properties: { ...((schema.properties as object) ?? {}), ...implicit },
  });
  return ajv.compile(closed as object);
}

const unknownField = (name: string) => `unknown field "${name}"; the API server would drop it`;

function joinPath(path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}
