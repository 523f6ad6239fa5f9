/**
 * Run-time checks of construct props for callers TypeScript does not check (JavaScript, casts,
 * JSON-driven apps): a prop of the wrong kind becomes a finding with the construct path instead of
 * a TypeError deep inside a constructor, and is dropped so the other checks still run.
 */
import { Size } from 'cdk8s';
import type { IConstruct } from 'constructs';
import { addProblem, type Problem } from './validation.ts';

/** What a prop must be: a basic kind, an object with its own table, or a list of one kind. */
export type PropKind =
  | 'string'
  | 'number'
  | 'boolean'
  | 'memory'
  | 'resource'
  | 'object'
  | 'list'
  | 'strings'
  | 'string map'
  | 'number or string'
  /** An object; without a valid `required` field it is reported and left out as a whole. */
  | { readonly fields: PropTable; readonly required?: readonly string[] }
  | { readonly each: PropKind };

/** Expected kind of each prop; props not listed are not checked. */
export type PropTable = Readonly<Record<string, PropKind>>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const BASIC: Record<Extract<PropKind, string>, { what: string; test: (v: unknown) => boolean }> = {
  string: { what: 'a string', test: (v) => typeof v === 'string' },
  number: { what: 'a number', test: (v) => typeof v === 'number' },
  boolean: { what: 'true or false', test: (v) => typeof v === 'boolean' },
  memory: {
    what: 'a quantity string such as "1Gi" or a cdk8s Size',
    test: (v) => typeof v === 'string' || v instanceof Size,
  },
  resource: {
    what: 'a construct such as a Model, Pipeline or Server (or its fromName reference)',
    test: (v) => isObject(v) && typeof v.kind === 'string' && typeof v.name === 'string',
  },
  object: { what: 'an object', test: isObject },
  list: { what: 'a list', test: Array.isArray },
  strings: {
    what: 'a list of strings',
    test: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
  },
  'string map': {
    what: 'an object of string values',
    test: (v) => isObject(v) && Object.values(v).every((s) => typeof s === 'string'),
  },
  'number or string': {
    what: 'a number or a string',
    test: (v) => typeof v === 'number' || typeof v === 'string',
  },
};

function describeKind(kind: PropKind): string {
  if (typeof kind === 'string') return BASIC[kind].what;
  return 'fields' in kind ? 'an object' : 'a list';
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' || typeof value === 'undefined'
    ? `an ${typeof value}`
    : `a ${typeof value}`;
}

function wrongKind(field: string, value: unknown, kind: PropKind): Problem {
  const expected = describeKind(kind);
  return {
    field,
    value,
    message: `must be ${expected}, not ${describeValue(value)}`,
    fix: `pass ${expected}`,
  };
}

function requiredProblem(field: string, kind: PropKind): Problem {
  return { field, message: 'is required', fix: `pass ${describeKind(kind)}` };
}

/** `value` checked against `kind`; what is wrong is reported and left out of the result. */
function checkValue(value: unknown, kind: PropKind, field: string, problems: Problem[]): unknown {
  if (typeof kind === 'string') {
    if (BASIC[kind].test(value)) return value;
    problems.push(wrongKind(field, value, kind));
    return undefined;
  }
  if ('fields' in kind) {
    if (!isObject(value)) {
      problems.push(wrongKind(field, value, kind));
      return undefined;
    }
    const checked = checkFields(value, kind.fields, `${field}.`, problems);
    for (const key of kind.required ?? []) {
      if (value[key] === undefined) problems.push(requiredProblem(`${field}.${key}`, kind.fields[key]));
    }
    return (kind.required ?? []).some((key) => checked[key] === undefined) ? undefined : checked;
  }
  if (!Array.isArray(value)) {
    problems.push(wrongKind(field, value, kind));
    return undefined;
  }
  const checked = value.map((item, i) => checkValue(item, kind.each, `${field}[${i}]`, problems));
  return checked.every((c, i) => c === value[i]) ? value : checked.filter((c) => c !== undefined);
}

/** `value` itself when all is well (constructs keep their identity), else a copy without what is wrong. */
function checkFields(
  value: Record<string, unknown>,
  table: PropTable,
  prefix: string,
  problems: Problem[],
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(table)) {
    if (value[key] === undefined) continue;
    const checked = checkValue(value[key], kind, `${prefix}${key}`, problems);
    if (checked !== value[key]) changes[key] = checked;
  }
  if (Object.keys(changes).length === 0) return value;
  return Object.setPrototypeOf({ ...value, ...changes }, Object.getPrototypeOf(value));
}

/** Records the problems `checkProps` found on the construct they belong to. */
export function reportProps(scope: IConstruct, problems: readonly Problem[]): void {
  for (const problem of problems) addProblem(scope, problem);
}

/**
 * `props` with every prop of the wrong kind left out, and the problems saying which. Props that
 * are not an object at all (or missing) are reported once and read as `{}`.
 */
export function checkProps<T>(props: T, table: PropTable): { props: T; problems: Problem[] } {
  const problems: Problem[] = [];
  if (props === undefined) return { props: {} as T, problems };
  if (!isObject(props)) {
    problems.push({
      field: '(props)',
      value: props,
      message: `must be an object, not ${describeValue(props)}`,
      fix: 'pass the props as an object literal, e.g. { name: "iris", ... }',
    });
    return { props: {} as T, problems };
  }
  return { props: checkFields(props, table, '', problems) as T, problems };
}
