// Reads the construct props interfaces, their JSDoc and the interfaces they use, with the
// TypeScript compiler: the construct reference in docs/ is generated from what this returns.
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

const CONSTRUCTS = 'src/constructs';

/** Interfaces a construct or `fromName` takes as its argument: the roots of the reference. */
const ROOT_NAME = /(Props|Attributes)$/;
/** Behaviour interfaces (`IModel`, ...) are implemented by constructs, not written by users. */
const BEHAVIOUR_NAME = /^I[A-Z]/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function compilerOptions(root: string): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.json');
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, root).options;
}

const isExported = (node: ts.Node): boolean =>
  ts.canHaveModifiers(node) &&
  (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

class Reader {
  private readonly checker: ts.TypeChecker;
  private readonly documented = new Set<ts.InterfaceDeclaration>();
  private readonly bases = new Set<ts.InterfaceDeclaration>();

  constructor(
    private readonly root: string,
    private readonly program: ts.Program,
  ) {
    this.checker = program.getTypeChecker();
  }

  read(): InterfaceDoc[] {
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
    const all = [...this.documented, ...[...this.bases].filter((b) => !this.documented.has(b))];
    return all
      .map((decl) => ({
        name: decl.name.text,
        file: this.path(decl.getSourceFile()),
        description: firstParagraph(decl),
        props: this.props(decl, new Set()),
        baseOnly: !this.documented.has(decl),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private inConstructs(file: ts.SourceFile): boolean {
    return this.path(file).startsWith(`${CONSTRUCTS}/`) && !file.isDeclarationFile;
  }

  private path(file: ts.SourceFile): string {
    return relative(this.root, file.fileName).split('\\').join('/');
  }

  /** A user-written interface of the construct library that `node` names, if it is one. */
  private interfaceOf(node: ts.EntityName | ts.Expression): ts.InterfaceDeclaration | undefined {
    let symbol = this.checker.getSymbolAtLocation(node);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
    const decl = symbol?.declarations?.find(ts.isInterfaceDeclaration);
    if (!decl || !this.inConstructs(decl.getSourceFile()) || BEHAVIOUR_NAME.test(decl.name.text))
      return undefined;
    return decl;
  }

  private visit(decl: ts.InterfaceDeclaration): void {
    if (this.documented.has(decl)) return;
    this.documented.add(decl);
    this.visitMembers(decl);
  }

  /** Follows the interfaces `decl` extends and the ones its props' types name. */
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
      const decl = this.interfaceOf(node.typeName);
      if (decl) this.visit(decl);
    }
    ts.forEachChild(node, (child) => this.visitType(child));
  }

  private baseInterfaces(decl: ts.InterfaceDeclaration): ts.InterfaceDeclaration[] {
    const types = (decl.heritageClauses ?? []).flatMap((clause) => [...clause.types]);
    return types.map((t) => this.interfaceOf(t.expression)).filter((d) => d !== undefined);
  }

  private props(decl: ts.InterfaceDeclaration, seen: Set<string>): PropDoc[] {
    const own = decl.members
      .filter((m): m is ts.PropertySignature => ts.isPropertySignature(m) && !seen.has(m.name.getText()))
      .map((member) => this.prop(decl, member));
    for (const prop of own) seen.add(prop.name);
    return [...own, ...this.baseInterfaces(decl).flatMap((base) => this.props(base, seen))];
  }

  private prop(decl: ts.InterfaceDeclaration, member: ts.PropertySignature): PropDoc {
    const file = member.getSourceFile();
    const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
    const tag = docs.flatMap((d) => [...(d.tags ?? [])]).find((t) => t.tagName.text === 'default');
    const line = file.getLineAndCharacterOfPosition(member.name.getStart()).line + 1;
    return {
      name: member.name.getText(),
      type: oneLine((member.type?.getText() ?? 'any').replace(/\breadonly\s+/g, '')),
      optional: member.questionToken !== undefined,
      default: tag ? oneLine(ts.getTextOfJSDocComment(tag.comment) ?? '') : undefined,
      description: firstParagraph(member),
      location: `${this.path(file)}:${line}`,
      declaredIn: decl.name.text,
    };
  }
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

function firstParagraph(node: ts.Node): string {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const comment = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join('\n');
  return oneLine(comment.split(/\n\s*\n/)[0] ?? '');
}

/**
 * The props interfaces of the construct library (exported interfaces of `src/constructs` named
 * `*Props` or `*Attributes`) and every interface of the library their props use or they extend.
 */
export function readConstructInterfaces(root: string): InterfaceDoc[] {
  const rootNames = sourceFiles(join(root, CONSTRUCTS));
  const program = ts.createProgram({
    rootNames,
    options: { ...compilerOptions(root), noEmit: true, noResolve: true, types: [] },
  });
  return new Reader(root, program).read();
}
