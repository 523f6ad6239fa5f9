// Reads the construct props interfaces, their JSDoc and the types they use, with the TypeScript
// compiler: the construct reference in docs/ is generated from what this returns.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface PropDoc {
  readonly name: string;
  /** The type as declared in the source, `readonly` left out. */
  readonly type: string;
  readonly optional: boolean;
  /** Text of the `@default` tag, if any. */
  readonly default: string | undefined;
  /** First paragraph of the JSDoc comment. */
  readonly description: string;
  /** Where the prop is declared, e.g. `src/constructs/model.ts:60`. */
  readonly location: string;
  /** The interface declaring it (another one than the table's for inherited props). */
  readonly declaredIn: string;
}

export interface InterfaceDoc {
  readonly name: string;
  readonly file: string;
  /** First paragraph of the interface's JSDoc comment. */
  readonly description: string;
  /** Own props in declaration order, then inherited ones. */
  readonly props: readonly PropDoc[];
  /** True when only extended by other interfaces: its props appear in their tables. */
  readonly baseOnly: boolean;
}

/** A type the props name that has no table: an alias, an enum or a behaviour interface. */
export interface TypeDoc {
  readonly name: string;
  /** What it stands for when that is short: a union, or an enum's members; else empty. */
  readonly definition: string;
  readonly description: string;
  readonly location: string;
}

export interface ConstructTypes {
  readonly interfaces: InterfaceDoc[];
  readonly types: TypeDoc[];
}

const CONSTRUCTS = 'src/constructs';
/** Read besides the constructs for the types they take from the contract layer. */
const SPEC = 'src/spec';

/** Interfaces a construct or `fromName` takes as its argument: the roots of the reference. */
const ROOT_NAME = /(Props|Attributes)$/;
/** Behaviour interfaces (`IModel`, ...) are implemented by constructs, not written by users. */
const BEHAVIOUR_NAME = /^I[A-Z]/;

type NamedDeclaration = ts.InterfaceDeclaration | ts.TypeAliasDeclaration | ts.EnumDeclaration;

const isNamedDeclaration = (node: ts.Node): node is NamedDeclaration =>
  ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isEnumDeclaration(node);

const isExported = (node: ts.Node): boolean =>
  ts.canHaveModifiers(node) &&
  (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/** `IModel | IPipeline`, `Size | string`: short enough to show as declared. */
function unionOfNames(node: ts.TypeNode): ts.TypeReferenceNode[] | undefined {
  if (!ts.isUnionTypeNode(node)) return undefined;
  const simple = node.types.every(
    (t) => (ts.isTypeReferenceNode(t) && !t.typeArguments) || t.kind === ts.SyntaxKind.StringKeyword,
  );
  return simple ? node.types.filter(ts.isTypeReferenceNode) : undefined;
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

function firstParagraph(node: ts.Node): string {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const comment = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join('\n');
  return oneLine(comment.split(/\n\s*\n/)[0] ?? '');
}

class Reader {
  private readonly checker: ts.TypeChecker;
  /** Interfaces with a table of their own. */
  private readonly documented = new Set<ts.InterfaceDeclaration>();
  /** Interfaces extended by documented ones. */
  private readonly bases = new Set<ts.InterfaceDeclaration>();
  /** Other types the props name. */
  private readonly named = new Set<NamedDeclaration>();

  constructor(
    private readonly root: string,
    private readonly program: ts.Program,
  ) {
    this.checker = program.getTypeChecker();
  }

  read(): ConstructTypes {
    for (const file of this.program.getSourceFiles()) {
      if (!this.inConstructs(file)) continue;
      for (const statement of file.statements) {
        if (
          ts.isInterfaceDeclaration(statement) &&
          isExported(statement) &&
          ROOT_NAME.test(statement.name.text)
        )
          this.visit(statement);
      }
    }
    const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
    const interfaces = [...this.documented, ...[...this.bases].filter((b) => !this.documented.has(b))]
      .map((decl) => ({
        name: decl.name.text,
        file: this.path(decl.getSourceFile()),
        description: firstParagraph(decl),
        props: this.props(decl, new Set()),
        baseOnly: !this.documented.has(decl),
      }))
      .sort(byName);
    const types = [...this.named]
      .filter((decl) => !(ts.isInterfaceDeclaration(decl) && this.documented.has(decl)))
      .map((decl) => this.typeDoc(decl))
      .sort(byName);
    return { interfaces, types };
  }

  private inConstructs(file: ts.SourceFile): boolean {
    return this.path(file).startsWith(`${CONSTRUCTS}/`) && !file.isDeclarationFile;
  }

  private path(file: ts.SourceFile): string {
    return relative(this.root, file.fileName).split('\\').join('/');
  }

  private location(node: NamedDeclaration | ts.PropertySignature): string {
    const file = node.getSourceFile();
    return `${this.path(file)}:${file.getLineAndCharacterOfPosition(node.name.getStart()).line + 1}`;
  }

  /** The declaration in this package's sources that `node` names, if any. */
  private declarationOf(node: ts.EntityName | ts.Expression): NamedDeclaration | undefined {
    let symbol = this.checker.getSymbolAtLocation(node);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
    const decl = symbol?.declarations?.find(isNamedDeclaration);
    return decl && this.path(decl.getSourceFile()).startsWith('src/') ? decl : undefined;
  }

  /** A user-written interface of the construct library, which gets a table. */
  private tabled(decl: NamedDeclaration | undefined): decl is ts.InterfaceDeclaration {
    return (
      decl !== undefined &&
      ts.isInterfaceDeclaration(decl) &&
      this.inConstructs(decl.getSourceFile()) &&
      !BEHAVIOUR_NAME.test(decl.name.text)
    );
  }

  private visit(decl: ts.InterfaceDeclaration): void {
    if (this.documented.has(decl)) return;
    this.documented.add(decl);
    this.visitMembers(decl);
  }

  /** Follows the interfaces `decl` extends and the types its props name. */
  private visitMembers(decl: ts.InterfaceDeclaration): void {
    for (const base of this.baseInterfaces(decl)) {
      if (this.bases.has(base)) continue;
      this.bases.add(base);
      this.visitMembers(base);
    }
    for (const member of decl.members) {
      if (ts.isPropertySignature(member) && member.type) this.visitType(member.type);
    }
  }

  private visitType(node: ts.Node): void {
    if (ts.isTypeReferenceNode(node)) {
      const decl = this.declarationOf(node.typeName);
      if (this.tabled(decl)) this.visit(decl);
      else if (decl) this.visitNamed(decl);
    }
    ts.forEachChild(node, (child) => this.visitType(child));
  }

  /** A type without a table; the names a union alias stands for are listed too. */
  private visitNamed(decl: NamedDeclaration): void {
    if (this.named.has(decl)) return;
    this.named.add(decl);
    const union = ts.isTypeAliasDeclaration(decl) ? unionOfNames(decl.type) : undefined;
    for (const ref of union ?? []) {
      const named = this.declarationOf(ref.typeName);
      if (named) this.visitNamed(named);
    }
  }

  private baseInterfaces(decl: ts.InterfaceDeclaration): ts.InterfaceDeclaration[] {
    const types = (decl.heritageClauses ?? []).flatMap((clause) => [...clause.types]);
    return types.map((t) => this.declarationOf(t.expression)).filter((d) => this.tabled(d));
  }

  private props(decl: ts.InterfaceDeclaration, seen: Set<string>): PropDoc[] {
    const own = decl.members
      .filter((m): m is ts.PropertySignature => ts.isPropertySignature(m) && !seen.has(m.name.getText()))
      .map((member) => this.prop(decl, member));
    for (const prop of own) seen.add(prop.name);
    return [...own, ...this.baseInterfaces(decl).flatMap((base) => this.props(base, seen))];
  }

  private prop(decl: ts.InterfaceDeclaration, member: ts.PropertySignature): PropDoc {
    const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
    const tag = docs.flatMap((d) => [...(d.tags ?? [])]).find((t) => t.tagName.text === 'default');
    return {
      name: member.name.getText(),
      type: oneLine((member.type?.getText() ?? 'any').replace(/\breadonly\s+/g, '')),
      optional: member.questionToken !== undefined,
      default: tag ? oneLine(ts.getTextOfJSDocComment(tag.comment) ?? '') : undefined,
      description: firstParagraph(member),
      location: this.location(member),
      declaredIn: decl.name.text,
    };
  }

  private typeDoc(decl: NamedDeclaration): TypeDoc {
    return {
      name: decl.name.text,
      definition: this.definition(decl),
      description: firstParagraph(decl),
      location: this.location(decl),
    };
  }

  /** An enum's members, or a union of names or string literals; empty for anything longer. */
  private definition(decl: NamedDeclaration): string {
    if (ts.isEnumDeclaration(decl)) {
      const value = (m: ts.EnumMember) => (m.initializer ? ` = ${m.initializer.getText()}` : '');
      return decl.members.map((m) => `${decl.name.text}.${m.name.getText()}${value(m)}`).join(', ');
    }
    if (!ts.isTypeAliasDeclaration(decl)) return '';
    if (unionOfNames(decl.type)) return oneLine(decl.type.getText());
    const type = this.checker.getTypeAtLocation(decl);
    if (type.isUnion() && type.types.every((t) => t.isStringLiteral()))
      return type.types.map((t) => `'${(t as ts.StringLiteralType).value}'`).join(' | ');
    return '';
  }
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function compilerOptions(root: string): ts.CompilerOptions {
  const { config } = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, root).options;
}

/**
 * The props interfaces of the construct library (exported interfaces of `src/constructs` named
 * `*Props` or `*Attributes`), every interface of the library their props use or they extend, and
 * the other types of the package their props name.
 */
export function readConstructTypes(root: string): ConstructTypes {
  const rootNames = [...sourceFiles(join(root, CONSTRUCTS)), ...sourceFiles(join(root, SPEC))];
  // Only our own sources: resolving cdk8s' declarations would triple the time for nothing used.
  const options = { ...compilerOptions(root), noEmit: true, noResolve: true, types: [] };
  return new Reader(root, ts.createProgram({ rootNames, options })).read();
}
