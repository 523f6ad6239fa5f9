// Schema checks for built-in Kubernetes kinds, derived from the OpenAPI models that
// @kubernetes/client-node ships (generated from the Kubernetes OpenAPI spec): field names
// (strict: undeclared fields are errors), value types and required fields.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../../spec/types.ts';

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}
type ModelClass = { getAttributeTypeMap(): Attribute[] };

export interface SchemaIssue {
  path: string;
  check: 'unknown-field' | 'wrong-type' | 'missing-field';
  message: string;
}

const models = k8s as unknown as Record<string, ModelClass | undefined>;
const modelDir = join(
  dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node')),
  'gen',
  'models',
);
const requiredCache = new Map<string, string[]>();

/** Required properties: the generated declarations mark them without `?` (`'name': string;`). */
function requiredOf(model: string): string[] {
  let req = requiredCache.get(model);
  if (!req) {
    let text = '';
    try {
      text = readFileSync(join(modelDir, `${model}.d.ts`), 'utf8');
    } catch {
      // No declarations: check field names and types only.
    }
    req = [...text.matchAll(/^\s+'([^']+)': /gm)].map((m) => m[1]);
    requiredCache.set(model, req);
  }
  return req;
}

/** The client-node model for an apiVersion/kind, e.g. apps/v1 Deployment → V1Deployment. */
export function modelFor(apiVersion: string, kind: string): string | undefined {
  const version = apiVersion.split('/').pop() ?? '';
  const name = `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
  const cls = models[name];
  if (!cls || typeof cls.getAttributeTypeMap !== 'function') return undefined;
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  // Only built-in groups: a custom resource may reuse a kind name (e.g. another group's Deployment).
  if (group !== '' && !group.endsWith('.k8s.io') && !BUILTIN_GROUPS.has(group)) return undefined;
  return name;
}

const BUILTIN_GROUPS = new Set(['apps', 'batch', 'autoscaling', 'policy']);

const QUANTITY_MAPS = new Set(['limits', 'requests', 'capacity', 'allocatable', 'hard', 'used', 'overhead']);

export function checkKubeObject(o: KubeObject): SchemaIssue[] | undefined {
  const model = modelFor(o.apiVersion, o.kind);
  if (!model) return undefined;
  const issues: SchemaIssue[] = [];
  checkModel(o, model, '', issues, true);
  return issues;
}

/**
 * A Kubernetes structure embedded in another object (a pod spec inside a custom resource)
 * checked against its model, e.g. `V1PodSpec`; `partial` for overrides merged over a full one,
 * which may leave required fields out.
 */
export function checkEmbedded(value: unknown, model: string, path: string, partial: boolean): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  checkModel(value, model, path, issues, !partial);
  return issues;
}

const join2 = (path: string, key: string) =>
  /^[A-Za-z_$][\w$-]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

function checkModel(
  value: unknown,
  model: string,
  path: string,
  issues: SchemaIssue[],
  required: boolean,
): void {
  const cls = models[model];
  if (!cls) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({
      path,
      check: 'wrong-type',
      message: `expected an object (${model}), got ${describe(value)}`,
    });
    return;
  }
  const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a]));
  const obj = value as Record<string, unknown>;
  for (const [key, v] of Object.entries(obj)) {
    const attr = attrs.get(key);
    if (!attr) {
      const known = [...attrs.keys()].sort();
      const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
      issues.push({
        path: join2(path, key),
        check: 'unknown-field',
        message: `unknown field "${key}"${near ? ` (did you mean "${near}"?)` : ''}; the API server would drop it`,
      });
      continue;
    }
    if (v === null) continue;
    checkType(v, attr.type, attr.format, join2(path, key), key, issues, required);
  }
  if (!required) return;
  for (const r of requiredOf(model)) {
    if (obj[r] === undefined)
      issues.push({
        path: join2(path, r),
        check: 'missing-field',
        message: `required field "${r}" is missing`,
      });
  }
}

function checkType(
  v: unknown,
  type: string,
  format: string,
  path: string,
  key: string,
  issues: SchemaIssue[],
  required: boolean,
): void {
  const wrong = (what: string): void => {
    issues.push({ path, check: 'wrong-type', message: `expected ${what}, got ${describe(v)}` });
  };
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (!Array.isArray(v)) {
      wrong('a list');
      return;
    }
    v.forEach((x, i) => {
      if (x !== null) checkType(x, arr[1], format, `${path}[${i}]`, key, issues, required);
    });
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof v !== 'object' || Array.isArray(v)) {
      wrong('a map');
      return;
    }
    const inner = QUANTITY_MAPS.has(key) && map[1] === 'string' ? 'IntOrString' : map[1];
    for (const [k, x] of Object.entries(v as object))
      if (x !== null) checkType(x, inner, '', join2(path, k), k, issues, required);
    return;
  }
  switch (type) {
    case 'any':
      return;
    case 'string':
    case 'Date':
      if (typeof v !== 'string') wrong(format === 'byte' ? 'a base64 string' : 'a string');
      return;
    case 'number':
      if (typeof v !== 'number' || ((format === 'int32' || format === 'int64') && !Number.isInteger(v))) {
        wrong(format.startsWith('int') ? 'an integer' : 'a number');
      }
      return;
    case 'boolean':
      if (typeof v !== 'boolean') wrong('true or false');
      return;
    case 'IntOrString':
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v)))
        wrong('an integer or a string');
      return;
    default:
      checkModel(v, type, path, issues, required);
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}
