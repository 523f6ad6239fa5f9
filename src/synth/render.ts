import { ApiObject, type App, Names } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type { ValidationFinding } from '../constructs/validation.ts';
import type { Manifest } from './layout.ts';

/** One object of the app as plain JSON, with the construct it came from. */
export interface RenderedObject {
  path: string;
  manifest: Manifest;
}

/**
 * Renders every ApiObject of the app to JSON, in construct-tree order.
 *
 * Objects are rendered one by one rather than through `Chart.toJson()`, which re-validates and
 * re-resolves dependencies of the whole app for every chart: validation has already run, and
 * dependencies only order objects inside a chart file, which this layout does not have.
 */
export function renderObjects(app: App): { objects: RenderedObject[]; findings: ValidationFinding[] } {
  const objects: RenderedObject[] = [];
  const findings: ValidationFinding[] = [];
  for (const construct of app.node.findAll()) {
    if (!ApiObject.isApiObject(construct)) continue;
    const path = construct.node.path;
    let json: Record<string, unknown>;
    try {
      json = construct.toJson();
    } catch (err) {
      findings.push({
        path,
        field: '(object)',
        message: `cannot be rendered: ${err instanceof Error ? err.message : String(err)}`,
      });
      continue;
    }
    const problem = shapeProblem(json);
    if (problem) {
      findings.push({ path, ...problem });
      continue;
    }
    const manifest = json as Manifest;
    const stable = manifest.metadata.name === construct.name ? stableName(construct) : undefined;
    if (stable) manifest.metadata = { ...manifest.metadata, name: stable };
    objects.push({ path, manifest });
  }
  return { objects, findings };
}

function shapeProblem(json: Record<string, unknown>): Omit<ValidationFinding, 'path'> | undefined {
  for (const field of ['apiVersion', 'kind'] as const) {
    if (typeof json[field] !== 'string' || json[field] === '') {
      return { field, value: json[field], message: `is missing`, fix: `set ${field} on the object` };
    }
  }
  const name = (json.metadata as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || name === '') {
    return { field: 'metadata.name', value: name, message: 'is missing', fix: 'set metadata.name' };
  }
  return undefined;
}

/**
 * cdk8s names an object without an explicit name after its construct path plus a hash of that
 * path; the hash makes names unreadable and changes whenever a construct moves. Such a name is
 * replaced by the same path-derived name without the hash. Returns undefined when the name was
 * declared (or chosen by a chart's own naming scheme), which is kept exactly.
 */
function stableName(obj: ApiObject): string | undefined {
  const declared = (obj as unknown as { props: { metadata?: { name?: string } } }).props.metadata?.name;
  if (declared !== undefined) return undefined;
  const maxLen = obj.kind === 'CronJob' ? 52 : 63;
  const scope = obj as IConstruct;
  if (obj.name !== Names.toDnsLabel(scope, { maxLen })) return undefined;
  return Names.toDnsLabel(scope, { maxLen, includeHash: false });
}
