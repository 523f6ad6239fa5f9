import { App } from 'cdk8s';
import type { IConstruct } from 'constructs';
import { Environment } from '../../src/constructs/environment.ts';
import { collectFindings, type ValidationFinding } from '../../src/constructs/validation.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests walk synthesized, untyped JSON
export type Json = any;

export interface KubeJson {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, Json>;
}

/**
 * A fresh app with one environment (namespace `prod` unless told). Its Namespace object is left
 * out so tests see only what their constructs declare (environment.test.ts covers it).
 */
export function setup(namespace = 'prod'): { app: App; env: Environment } {
  const app = new App({ outdir: 'unused' });
  const env = new Environment(app, namespace, { namespace, createNamespace: false });
  return { app, env };
}

/** The synthesized object of `kind`/`name` in `env`. */
export function synthOne(env: Environment, kind: string, name: string): KubeJson {
  const found = (env.toJson() as KubeJson[]).find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} synthesized`);
  return found;
}

/** Findings as compact `path field: message` lines. */
export function problems(root: IConstruct): string[] {
  return collectFindings(root).map((f: ValidationFinding) => `${f.path} ${f.field}: ${f.message}`);
}
