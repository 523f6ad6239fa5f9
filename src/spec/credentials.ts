/**
 * What a credential looks like in a manifest: one definition for the review diff (which masks
 * them) and validation/synthesis (which refuse them). Plain functions over parsed YAML.
 *
 * A value is credential-shaped when it is
 * - `named`: a string named like a credential, as a map key (`DB_PASSWORD: x`, `sasl.password: x`)
 *   or a `{ name, value }` pair (container env, Model parameters);
 * - `uri`: the user-info of a URI with a password (`postgres://u:PASSWORD@db`, `s3://KEY:SECRET@host`);
 * - `flag`: the value of a command-line flag named like a credential, joined (`--password=x`) or
 *   as the next item of a command/args list (`--token`, `x`).
 * References (`$(VAR)`, `${VAR}`, `$VAR`) are not credentials: they name where one comes from.
 */

export type CredentialShape = 'named' | 'uri' | 'flag';

export interface Credential {
  /** Dotted path of the string holding it, e.g. `spec.template.spec.containers[0].args[3]`. */
  path: string;
  shape: CredentialShape;
  /** The env var, parameter, key or flag name, or the URI scheme. */
  name: string;
  /** The credential itself (a substring of the string for `uri` and joined `flag`). */
  secret: string;
}

// Ends in a credential word; `-`, `.` and spaces count as `_`, case is ignored (so `dbPassword`,
// `api-key`, `sasl.password` and `AWS_SECRET_ACCESS_KEY` match, `PASSWORD_FILE` and `secretName` do not).
const CREDENTIAL_NAME =
  /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|SECRET_?KEY|PRIVATE_?KEY|SIGNING_?KEY|CREDENTIALS?|CONNECTION_?STRING)$/i;
// Tokenizer settings of language models (`eos_token: </s>`) are not credentials.
const TOKENIZER_TOKEN = /(^|_)(BOS|EOS|PAD|UNK|SEP|CLS|MASK)_?TOKEN$/i;

export function isCredentialName(name: string): boolean {
  const n = name.replace(/[-.\s]/g, '_');
  return CREDENTIAL_NAME.test(n) && !TOKENIZER_TOKEN.test(n);
}

const REFERENCE = /^(\$\([\w.-]+\)|\$\{[\w.-]+\}|\$[A-Za-z_]\w*)$/;

/** A reference to a value held elsewhere (Kubernetes `$(VAR)`, shell `${VAR}`), not a literal. */
export function isReference(value: string): boolean {
  return REFERENCE.test(value.trim());
}

const isLiteral = (s: string) => s !== '' && !isReference(s);
const FLAG = /^--?([A-Za-z][\w.-]*)$/;
// scheme://user:password@ (user-info up to the `@` before the host)
const URI_USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*):\/\/([^\s/?#@:]*):([^\s/?#@]+)@/g;
// --name=value or --name value inside free text (a shell command, one args item)
const FLAG_IN_TEXT = /(^|\s)--?([A-Za-z][\w.-]*)(=|\s+)("[^"]*"|'[^']*'|[^\s"']+)/g;

interface Span {
  start: number;
  end: number;
  shape: CredentialShape;
  name: string;
}

/** Credentials inside one string: URI user-info with a password, `--secret-flag=value`. */
export function credentialSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(URI_USERINFO)) {
    if (!isLiteral(m[3])) continue;
    const start = (m.index ?? 0) + m[1].length + 3;
    spans.push({ start, end: start + m[2].length + 1 + m[3].length, shape: 'uri', name: m[1] });
  }
  for (const m of text.matchAll(FLAG_IN_TEXT)) {
    const value = m[4].replace(/^(["'])(.*)\1$/, '$2');
    if (!isCredentialName(m[2]) || !isLiteral(value)) continue;
    const end = (m.index ?? 0) + m[0].length;
    const start = end - m[4].length;
    if (!spans.some((s) => s.start < end && start < s.end))
      spans.push({ start, end, shape: 'flag', name: m[2] });
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** Items of a command/args list that are the value of the flag before them (`--token`, `x`). */
function separateFlagValues(list: readonly unknown[]): Map<number, string> {
  const out = new Map<number, string>();
  list.forEach((item, i) => {
    const flag = typeof item === 'string' ? FLAG.exec(item)?.[1] : undefined;
    const next = list[i + 1];
    if (
      flag &&
      isCredentialName(flag) &&
      typeof next === 'string' &&
      !next.startsWith('-') &&
      isLiteral(next)
    )
      out.set(i + 1, flag);
  });
  return out;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The name a string at `key` of `parent` holds a credential by, if it does. */
function credentialNameAt(key: string | number | undefined, parent: unknown): string | undefined {
  if (typeof key !== 'string' || !isObj(parent)) return undefined;
  if (key === 'value')
    return typeof parent.name === 'string' && isCredentialName(parent.name) ? parent.name : undefined;
  return key !== 'name' && isCredentialName(key) ? key : undefined;
}

/** Where a value sits: its path, and the key and container it sits under. */
export interface ValueAt {
  path?: string;
  key?: string | number;
  parent?: unknown;
}

/**
 * A copy of `value` in which `replace` has rewritten every credential it holds (the text it
 * returns takes the credential's place). With `at`, a value taken out of a larger one (a diff's
 * changed field) is judged as in its place.
 */
export function redactCredentials<T>(value: T, replace: (c: Credential) => string, at: ValueAt = {}): T {
  return walk(value, at.path ?? '', at.key, at.parent, replace) as T;
}

/** Every credential in a parsed manifest, or in any part of one. */
export function findCredentials(value: unknown, at: ValueAt = {}): Credential[] {
  const found: Credential[] = [];
  redactCredentials(
    value,
    (c) => {
      found.push(c);
      return c.secret;
    },
    at,
  );
  return found;
}

type Replace = (c: Credential) => string;

function walk(
  v: unknown,
  path: string,
  key: string | number | undefined,
  parent: unknown,
  r: Replace,
): unknown {
  if (typeof v === 'string') {
    const name = credentialNameAt(key, parent);
    if (name !== undefined) return isLiteral(v) ? r({ path, shape: 'named', name, secret: v }) : v;
    let out = '';
    let pos = 0;
    for (const s of credentialSpans(v)) {
      out +=
        v.slice(pos, s.start) + r({ path, shape: s.shape, name: s.name, secret: v.slice(s.start, s.end) });
      pos = s.end;
    }
    return pos === 0 ? v : out + v.slice(pos);
  }
  if (Array.isArray(v)) {
    const flags = separateFlagValues(v);
    return v.map((item, i) => {
      const at = `${path}[${i}]`;
      const flag = flags.get(i);
      if (flag !== undefined) return r({ path: at, shape: 'flag', name: flag, secret: item as string });
      return walk(item, at, i, v, r);
    });
  }
  if (isObj(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, joinKey(path, k), k, v, r)]));
  }
  return v;
}

function joinKey(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}
