// Writes the reference tables into the docs, between `<!-- props:Name -->` and `<!-- /props -->`
// (one props interface) or `<!-- types -->` and `<!-- /types -->` (the other types the props
// name), so the reference says what the JSDoc says and cannot drift from it.
import type { ConstructTypes, InterfaceDoc, PropDoc, TypeDoc } from './read.ts';

const PROPS_TABLE = /<!-- props:(\w+) -->\n[\s\S]*?<!-- \/props -->/g;
const TYPES_TABLE = /<!-- types -->\n[\s\S]*?<!-- \/types -->/g;

/** A pipe ends a table cell, even inside backticks, unless escaped. */
const cell = (text: string): string => text.replace(/\|/g, '\\|');

/**
 * `@default 'seldon'` is a value, written as code; `@default - the construct id` is prose;
 * `@default false - an emptyDir` is a value with an explanation.
 */
export function renderDefault(text: string): string {
  if (text.startsWith('-')) return text.replace(/^-\s*/, '');
  const [value, ...why] = text.split(' - ');
  const code = value.includes('`') ? value : `\`${value}\``;
  return why.length > 0 ? `${code} — ${why.join(' - ')}` : code;
}

function propRow(prop: PropDoc): string {
  const fallback = prop.optional ? renderDefault(prop.default ?? '') : 'required';
  return `| \`${prop.name}\` | \`${cell(prop.type)}\` | ${cell(fallback)} | ${cell(prop.description)} |`;
}

export function renderTable(doc: InterfaceDoc): string {
  const title = `**\`${doc.name}\`**${doc.description ? `: ${doc.description}` : ''}`;
  return [
    title,
    '',
    '| prop | type | default | description |',
    '| --- | --- | --- | --- |',
    ...doc.props.map(propRow),
  ].join('\n');
}

function typeRow(type: TypeDoc): string {
  const definition = type.definition ? `\`${cell(type.definition)}\`` : '';
  return `| \`${type.name}\` | ${definition} | ${cell(type.description)} |`;
}

export function renderTypes(types: readonly TypeDoc[]): string {
  return ['| type | definition | description |', '| --- | --- | --- |', ...types.map(typeRow)].join('\n');
}

export interface Rendered {
  readonly text: string;
  /** Marker names that are not props interfaces of the construct library. */
  readonly unknown: string[];
  /** Interfaces that have a table in this page. */
  readonly tabled: string[];
  /** Whether the page has the table of the other types. */
  readonly hasTypes: boolean;
}

/** `page` with every marked table regenerated. */
export function renderPage(page: string, reference: ConstructTypes): Rendered {
  const byName = new Map(reference.interfaces.map((doc) => [doc.name, doc]));
  const unknown: string[] = [];
  const tabled: string[] = [];
  let hasTypes = false;
  const text = page
    .replace(PROPS_TABLE, (whole, name: string) => {
      const doc = byName.get(name);
      if (!doc) {
        unknown.push(name);
        return whole;
      }
      tabled.push(name);
      return `<!-- props:${name} -->\n${renderTable(doc)}\n<!-- /props -->`;
    })
    .replace(TYPES_TABLE, () => {
      hasTypes = true;
      return `<!-- types -->\n${renderTypes(reference.types)}\n<!-- /types -->`;
    });
  return { text, unknown, tabled, hasTypes };
}

/** Optional props without a `@default` tag, as `file:line Interface.prop`. */
export function missingDefaults(reference: ConstructTypes): string[] {
  return ownProps(reference.interfaces)
    .filter((p) => p.optional && !p.default)
    .map((p) => `${p.location} ${p.declaredIn}.${p.name}`);
}

/** Props and types without a description, as `file:line Interface.prop` or `file:line Type`. */
export function missingDescriptions(reference: ConstructTypes): string[] {
  return [
    ...ownProps(reference.interfaces)
      .filter((p) => p.description === '')
      .map((p) => `${p.location} ${p.declaredIn}.${p.name}`),
    ...reference.types.filter((t) => t.description === '').map((t) => `${t.location} ${t.name}`),
  ];
}

/** Each prop once, in the interface that declares it. */
function ownProps(interfaces: readonly InterfaceDoc[]): PropDoc[] {
  return interfaces.flatMap((doc) => doc.props.filter((p) => p.declaredIn === doc.name));
}
