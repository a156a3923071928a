// CST → AST for files, declarations, types and statements. Expressions are in
// build-expressions.ts. The builder only meets CSTs of statements that parsed completely (a
// failing statement is dropped by the parser's recovery), except in a runbook header, whose
// parts are read defensively.
import type { CstNode, IToken } from "chevrotain";
import { GROUP_NAME, GROUP_NAME_RULE } from "../runtime/abi.js";
import type * as A from "./ast.js";
import { ExpressionBuilder, type BuildContext, type DeferredInterpolation } from "./build-expressions.js";
import { messages, type SyntaxIssue } from "./messages.js";

type Children = CstNode["children"];

const tok = (c: Children, key: string, i = 0): IToken | undefined => c[key]?.[i] as IToken | undefined;
const sub = (c: Children, key: string, i = 0): CstNode | undefined => c[key]?.[i] as CstNode | undefined;
const count = (c: Children, key: string): number => c[key]?.length ?? 0;
const end = (t: IToken): number => t.startOffset + t.image.length;

/** A statement built during the parse, with what building it reported and left to do. */
interface Prebuilt {
  ast: A.Stmt | undefined;
  issues: SyntaxIssue[];
  deferred: DeferredInterpolation[];
}

export class AstBuilder extends ExpressionBuilder {
  constructor(ctx: BuildContext) {
    super(ctx);
  }

  /** Statements built while the parser ran (see prebuild), by their statement line. */
  private readonly prebuilt = new Map<CstNode, Prebuilt>();

  /**
   * Builds the statement of `line` right after it parsed (the parser calls this). The statement
   * may still be dropped: an enclosing statement can fail to parse later. So what building it
   * reported, and the interpolations it left for later (the parser is busy), are kept with it
   * and reach the file only when its block is built (`block`), as if it were built then.
   */
  prebuild(line: CstNode): void {
    const issues = this.ctx.issues;
    const deferred = this.deferred;
    this.ctx.issues = [];
    this.deferred = [];
    this.parserBusy = true;
    try {
      const ast = this.statement(line.children);
      this.prebuilt.set(line, { ast, issues: this.ctx.issues, deferred: this.deferred });
      (line as { children: Children }).children = {}; // let the statement's CST go
    } finally {
      this.ctx.issues = issues;
      this.deferred = deferred;
      this.parserBusy = false;
    }
  }

  sourceFile(cst: CstNode): A.SourceFileNode {
    const file = this.sourceFileWithDeferred(cst);
    this.parseDeferred();
    return file;
  }

  private sourceFileWithDeferred(cst: CstNode): A.SourceFileNode {
    const c = cst.children;
    const uses: A.UseDecl[] = [];
    let runbook: A.RunbookDecl | undefined;
    for (const u of (c.useDecl ?? []) as CstNode[]) {
      const decl = this.useDecl(u.children);
      if (decl === undefined) continue;
      uses.push(decl);
    }
    for (const r of (c.runbookDecl ?? []) as CstNode[]) {
      const decl = this.runbookDecl(r.children);
      if (runbook === undefined) runbook = decl;
      else this.issue(decl.span.start.offset, decl.name.span.end.offset, messages.secondRunbook());
    }
    if (runbook !== undefined) {
      for (const u of uses) {
        if (u.span.start.offset > runbook.span.start.offset) this.issue(u.span.start.offset, u.span.end.offset, messages.useAfterRunbook());
      }
    }
    return { kind: "SourceFile", span: this.span(0, this.ctx.lines.text.length), file: this.ctx.lines.file, uses, runbook };
  }

  private useDecl(c: Children): A.UseDecl | undefined {
    const kw = tok(c, "Use")!;
    const pathTok = tok(c, "StringLit")!;
    const alias = tok(c, "Identifier")!;
    const path = this.plainString(pathTok, "module path");
    return { kind: "Use", span: this.span(kw.startOffset, end(alias)), path: path ?? "", alias: this.ident(alias) };
  }

  private runbookDecl(c: Children): A.RunbookDecl {
    const kw = tok(c, "Runbook")!;
    const nameTok = tok(c, "Identifier");
    const name = nameTok ? this.ident(nameTok) : { kind: "Identifier" as const, span: this.span(end(kw), end(kw)), name: "" };
    const params = ((c.param ?? []) as CstNode[]).map((p) => this.param(p.children)).filter((p) => p !== undefined);
    const typeCst = sub(c, "type");
    const returnType = typeCst ? this.type(typeCst) : undefined;
    const blockCst = sub(c, "block");
    let lastEnd = returnType?.span.end.offset ?? (tok(c, "RParen") ? end(tok(c, "RParen")!) : name.span.end.offset);
    const body = blockCst ? this.block(blockCst) : { kind: "Block" as const, span: this.span(lastEnd, lastEnd), statements: [] };
    lastEnd = body.span.end.offset;
    const { concurrency, group } = this.headerClauses((c.headerClause ?? []) as CstNode[]);
    return { kind: "Runbook", span: this.span(kw.startOffset, lastEnd), name, params, returnType, concurrency, group, body };
  }

  /** `concurrency (key: EXPR, limit: N)` and `group "NAME"`, each at most once. */
  private headerClauses(clauses: CstNode[]): Pick<A.RunbookDecl, "concurrency" | "group"> {
    const out: Pick<A.RunbookDecl, "concurrency" | "group"> = { concurrency: undefined, group: undefined };
    for (const cst of clauses) {
      const c = cst.children;
      const word = tok(c, "Identifier")!;
      const close = tok(c, "RParen");
      const str = tok(c, "StringLit");
      const span = this.span(word.startOffset, end(close ?? str ?? word));
      const wrong = (detail: string) => this.issue(word.startOffset, span.end.offset, messages.headerClause(detail));
      if (word.image === "group") {
        if (!str) wrong('`group` takes the group\'s name as a string: `group "NAME"`');
        else if (out.group) wrong("the header has a second `group` clause");
        else {
          const name = this.plainString(str, "group name");
          if (name !== undefined && !GROUP_NAME.test(name)) {
            this.issue(str.startOffset, end(str), messages.headerClause(`${JSON.stringify(name)} is not a group name (${GROUP_NAME_RULE})`));
          } else if (name !== undefined) out.group = { span, name };
        }
      } else if (word.image === "concurrency") {
        if (str || !close) wrong("`concurrency` takes named arguments: `concurrency (key: EXPR, limit: N)`");
        else if (out.concurrency) wrong("the header has a second `concurrency` clause");
        else out.concurrency = this.concurrencyClause(span, (c.headerArg ?? []) as CstNode[]);
      } else {
        wrong(`unknown header clause \`${word.image}\``);
      }
    }
    return out;
  }

  private concurrencyClause(span: A.Span, args: CstNode[]): A.ConcurrencyClause | undefined {
    let key: A.Expr | undefined;
    let limit: A.Expr | undefined;
    for (const a of args) {
      const nameTok = tok(a.children, "Identifier")!;
      const value = this.expression(sub(a.children, "expression")!);
      const where = (detail: string) => this.issue(nameTok.startOffset, end(nameTok), messages.headerClause(detail));
      if (nameTok.image === "key") key === undefined ? (key = value) : where("`key` is given twice");
      else if (nameTok.image === "limit") limit === undefined ? (limit = value) : where("`limit` is given twice");
      else where(`\`concurrency\` takes \`key\` and \`limit\`, not \`${nameTok.image}\``);
    }
    if (!limit) {
      this.issue(span.start.offset, span.end.offset, messages.headerClause("`concurrency` needs a `limit`: `concurrency (key: EXPR, limit: N)`"));
      return undefined;
    }
    return { kind: "Concurrency", span, key, limit };
  }

  private param(c: Children): A.Param | undefined {
    const nameTok = tok(c, "Identifier");
    const typeCst = sub(c, "type");
    if (!nameTok || !typeCst) return undefined;
    const type = this.type(typeCst);
    const defCst = sub(c, "expression");
    const def = defCst ? this.expression(defCst) : undefined;
    return { kind: "Param", span: this.span(nameTok.startOffset, (def ?? type).span.end.offset), name: this.ident(nameTok), type, default: def };
  }

  // ---------------------------------------------------------------------------------------------
  // Types

  private type(cst: CstNode): A.TypeNode {
    const c = cst.children;
    let t = this.typeAtom(sub(c, "typeAtom")!);
    const n = count(c, "Question");
    for (let i = 0; i < n; i++) {
      t = { kind: "OptionalType", span: this.span(t.span.start.offset, end(tok(c, "Question", i)!)), inner: t };
    }
    return t;
  }

  private typeAtom(cst: CstNode): A.TypeNode {
    const c = cst.children;
    const open = tok(c, "LCurly");
    if (open) {
      const fields = ((c.recordField ?? []) as CstNode[]).map((f) => {
        const name = this.ident(tok(f.children, "AnyName")!);
        return { name, type: this.type(sub(f.children, "type")!) };
      });
      return { kind: "RecordType", span: this.span(open.startOffset, end(tok(c, "RCurly")!)), fields };
    }
    const id = tok(c, "Identifier")!;
    const argCst = sub(c, "type");
    const name = id.image;
    if (argCst) {
      const arg = this.type(argCst);
      const span = this.span(id.startOffset, end(tok(c, "Gt")!));
      if (name === "list") return { kind: "ListType", span, element: arg };
      if (name === "map") return { kind: "MapType", span, value: arg };
      this.issue(id.startOffset, span.end.offset, messages.badType(`\`${name}\` takes no type argument; only \`list<T>\` and \`map<T>\` do`));
      return { kind: "NamedType", span: this.span(id.startOffset, end(id)), name };
    }
    const span = this.span(id.startOffset, end(id));
    if (name === "list" || name === "map") {
      this.issue(id.startOffset, end(id), messages.badType(`\`${name}\` needs an element type, like \`${name}<string>\``));
      const any: A.NamedType = { kind: "NamedType", span, name: "any" };
      return name === "list" ? { kind: "ListType", span, element: any } : { kind: "MapType", span, value: any };
    }
    return { kind: "NamedType", span, name };
  }

  // ---------------------------------------------------------------------------------------------
  // Statements

  protected override block(cst: CstNode): A.Block {
    const c = cst.children;
    const statements: A.Stmt[] = [];
    for (const line of (c.stmtLine ?? []) as CstNode[]) {
      const pre = this.prebuilt.get(line);
      let s: A.Stmt | undefined;
      if (pre === undefined) s = this.statement(line.children);
      else {
        s = pre.ast;
        for (const i of pre.issues) this.ctx.issues.push(i);
        for (const d of pre.deferred) this.deferred.push(d);
      }
      if (s !== undefined) statements.push(s);
    }
    return { kind: "Block", span: this.span(tok(c, "LCurly")!.startOffset, end(tok(c, "RCurly")!)), statements };
  }

  /** `c` holds one statement's parts and its StatementEnd. */
  private statement(c: Children): A.Stmt | undefined {
    const t = tok(c, "Break") ?? tok(c, "Continue");
    if (t) return { kind: t.image === "break" ? "Break" : "Continue", span: this.span(t.startOffset, end(t)) };
    for (const key in c) {
      if (key === "StatementEnd") continue;
      const k = (c[key][0] as CstNode).children;
      switch (key) {
        case "letStmt": return this.letStmt(k);
        case "recoveredLet": {
          // A `let` whose value did not parse (reported): the name stays declared.
          const kw = tok(k, "Let")!;
          const name = this.ident(tok(k, "Identifier")!);
          const stop = Math.max(end(tok(k, "Last")!), name.span.end.offset);
          const value: A.ErrorExpr = { kind: "ErrorExpr", span: this.span(name.span.end.offset, stop) };
          return { kind: "Let", span: this.span(kw.startOffset, stop), name, type: undefined, value };
        }
        case "exprStmt": return this.exprStmt(k);
        case "ifStmt": return this.ifStmt(k);
        case "forStmt": return this.forStmt(k);
        case "whileStmt": {
          const kw = tok(k, "While")!;
          const body = this.block(sub(k, "block")!);
          return { kind: "While", span: this.span(kw.startOffset, body.span.end.offset), condition: this.expression(sub(k, "expression")!), body };
        }
        case "streamStmt": {
          const kw = (tok(k, "Output") ?? tok(k, "Log") ?? tok(k, "Warn") ?? tok(k, "ErrorKw"))!;
          const value = this.expression(sub(k, "expression")!);
          return { kind: "Stream", span: this.span(kw.startOffset, value.span.end.offset), stream: kw.image as A.StreamName, value };
        }
        case "returnStmt": return this.keywordWithValue(k, "Return");
        case "tryStmt": return this.tryStmt(k);
        case "retryStmt": return this.retryStmt(k);
        case "checkpointStmt": return this.checkpoint(k);
        case "sleepStmt": {
          const kw = tok(k, "Sleep")!;
          const duration = this.expression(sub(k, "expression")!);
          return { kind: "Sleep", span: this.span(kw.startOffset, duration.span.end.offset), duration };
        }
        case "suspendStmt": return this.keywordWithValue(k, "Suspend");
        case "failStmt": {
          const kw = tok(k, "Fail")!;
          const message = this.expression(sub(k, "expression")!);
          return { kind: "Fail", span: this.span(kw.startOffset, message.span.end.offset), message };
        }
      }
    }
    return undefined;
  }

  private letStmt(c: Children): A.LetStmt {
    const kw = tok(c, "Let")!;
    const typeCst = sub(c, "type");
    const value = this.expression(sub(c, "expression")!);
    return {
      kind: "Let",
      span: this.span(kw.startOffset, value.span.end.offset),
      name: this.ident(tok(c, "Identifier")!),
      type: typeCst ? this.type(typeCst) : undefined,
      value,
    };
  }

  private ifStmt(c: Children): A.IfStmt {
    // if c0 b0 (else if c_i b_i)* (else b_last)?: build the chain from its end.
    const conditions = (c.expression as CstNode[]).map((e) => this.expression(e));
    const blocks = (c.block as CstNode[]).map((b) => this.block(b));
    const ifs = c.If as IToken[];
    if (ifs.length > this.ctx.maxChain) this.ctx.maxChain = ifs.length;
    let otherwise: A.Block | A.IfStmt | undefined = blocks.length > conditions.length ? blocks[blocks.length - 1] : undefined;
    for (let i = conditions.length - 1; i >= 0; i--) {
      const last: A.Block | A.IfStmt = otherwise ?? blocks[i];
      otherwise = { kind: "If", span: this.span(ifs[i].startOffset, last.span.end.offset), condition: conditions[i], then: blocks[i], otherwise };
    }
    return otherwise as A.IfStmt;
  }

  private forStmt(c: Children): A.ForStmt {
    const kw = tok(c, "For")!;
    const ids = (c.Identifier as IToken[]).map((t) => this.ident(t));
    const body = this.block(sub(c, "block")!);
    return {
      kind: "For",
      span: this.span(kw.startOffset, body.span.end.offset),
      names: ids.length > 1 ? [ids[0], ids[1]] : [ids[0]],
      iterable: this.expression(sub(c, "expression")!),
      body,
    };
  }

  private keywordWithValue(c: Children, key: "Return" | "Suspend"): A.ReturnStmt | A.SuspendStmt {
    const kw = tok(c, key)!;
    const e = sub(c, "expression");
    const value = e ? this.expression(e) : undefined;
    const span = this.span(kw.startOffset, value ? value.span.end.offset : end(kw));
    return key === "Return" ? { kind: "Return", span, value } : { kind: "Suspend", span, reason: value };
  }

  private checkpoint(c: Children): A.CheckpointStmt {
    const kw = tok(c, "Checkpoint")!;
    const e = sub(c, "expression");
    const value = e ? this.expression(e) : undefined;
    let label: A.StringLiteral | undefined;
    if (value !== undefined) {
      if (value.kind === "String") label = value;
      else if (value.kind !== "ErrorExpr") this.issue(value.span.start.offset, value.span.end.offset, messages.plainStringOnly("checkpoint label"));
    }
    return { kind: "Checkpoint", span: this.span(kw.startOffset, value ? value.span.end.offset : end(kw)), label };
  }

  private tryStmt(c: Children): A.TryStmt {
    const kw = tok(c, "Try")!;
    const blocks = (c.block as CstNode[]).map((b) => this.block(b));
    const catchTok = tok(c, "Catch");
    const handler = catchTok
      ? { param: this.ident(tok(c, "Identifier")!), body: blocks[1], span: this.span(catchTok.startOffset, blocks[1].span.end.offset) }
      : undefined;
    let finalizer = tok(c, "Finally") ? blocks[blocks.length - 1] : undefined;
    if (!handler && !finalizer) {
      this.issue(kw.startOffset, end(kw), messages.tryWithoutHandler());
      // Keep the contract (one of the two is present) with a finally that does nothing.
      const at = blocks[0].span.end.offset;
      finalizer = { kind: "Block", span: this.span(at, at), statements: [] };
    }
    const last = blocks[blocks.length - 1];
    return { kind: "Try", span: this.span(kw.startOffset, last.span.end.offset), block: blocks[0], handler, finalizer };
  }

  private retryStmt(c: Children): A.RetryStmt {
    const kw = tok(c, "Retry")!;
    const options: Record<"attempts" | "delay" | "backoff", A.Expr | undefined> = { attempts: undefined, delay: undefined, backoff: undefined };
    for (const nv of (c.namedValue ?? []) as CstNode[]) {
      const nameTok = tok(nv.children, "AnyName")!;
      const value = this.expression(sub(nv.children, "expression")!);
      const name = nameTok.image;
      if (name !== "attempts" && name !== "delay" && name !== "backoff") {
        this.issue(nameTok.startOffset, end(nameTok), messages.unknownRetryOption(name));
      } else if (options[name] !== undefined) {
        this.issue(nameTok.startOffset, end(nameTok), messages.duplicateRetryOption(name));
      } else options[name] = value;
    }
    const body = this.block(sub(c, "block")!);
    return { kind: "Retry", span: this.span(kw.startOffset, body.span.end.offset), ...options, body };
  }

  private exprStmt(c: Children): A.Stmt | undefined {
    const exprs = c.expression as CstNode[];
    const first = this.expression(exprs[0]);
    const op = tok(c, "AssignOp");
    if (!op) return { kind: "ExprStmt", span: first.span, expression: first };
    const value = this.expression(exprs[1]);
    const target = first;
    const assignable =
      target.kind === "Name" || target.kind === "Index" || (target.kind === "Member" && !target.optional);
    if (!assignable) {
      if (target.kind !== "ErrorExpr") this.issue(target.span.start.offset, target.span.end.offset, messages.badAssignTarget());
      return undefined;
    }
    return {
      kind: "Assign",
      span: this.span(target.span.start.offset, value.span.end.offset),
      target,
      operator: op.image as A.AssignStmt["operator"],
      value,
    };
  }
}
