// Writes the props tables into the docs, between `<!-- props:Name -->` and `<!-- /props -->`, so
// the reference says what the JSDoc says and cannot drift from it.
import type { InterfaceDoc, PropDoc } from './read.ts';

const MARKED = /<!-- props:(\w+) -->\n[\s\S]*?<!-- \/props -->/g;

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

function row(prop: PropDoc): string {
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
    ...doc.props.map(row),
  ].join('\n');
}

export interface Rendered {
  readonly text: string;
  /** Marker names that are not props interfaces of the construct library. */
  readonly unknown: string[];
  /** Interfaces that have a table in this page. */
  readonly tabled: string[];
}

/** `page` with every marked table regenerated. */
export function renderPage(page: string, interfaces: readonly InterfaceDoc[]): Rendered {
  const byName = new Map(interfaces.map((doc) => [doc.name, doc]));
  const unknown: string[] = [];
  const tabled: string[] = [];
  const text = page.replace(MARKED, (whole, name: string) => {
    const doc = byName.get(name);
    if (!doc) {
      unknown.push(name);
      return whole;
    }
    tabled.push(name);
    return `<!-- props:${name} -->\n${renderTable(doc)}\n<!-- /props -->`;
  });
  return { text, unknown, tabled };
}

/** Optional props without a `@default` tag, as `file:line Interface.prop`. */
export function missingDefaults(interfaces: readonly InterfaceDoc[]): string[] {
  return ownProps(interfaces)
    .filter((p) => p.optional && !p.default)
    .map((p) => `${p.location} ${p.declaredIn}.${p.name}`);
}

/** Props without a description, as `file:line Interface.prop`. */
export function missingDescriptions(interfaces: readonly InterfaceDoc[]): string[] {
  return ownProps(interfaces)
    .filter((p) => p.description === '')
    .map((p) => `${p.location} ${p.declaredIn}.${p.name}`);
}

/** Each prop once, in the interface that declares it. */
function ownProps(interfaces: readonly InterfaceDoc[]): PropDoc[] {
  return interfaces.flatMap((doc) => doc.props.filter((p) => p.declaredIn === doc.name));
}
