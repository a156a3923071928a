// The grammar: a chevrotain CstParser, built once per process (`parser` below).
//
// Shape decisions:
// - Binary expressions are read flat, `operand (op operand)*`; the AST builder applies the
//   precedence table (grammar/precedence.ts). This keeps the rule stack shallow (fast, and deep
//   nesting costs less stack) and gives one place that owns precedence.
// - Every statement is followed by a StatementEnd (line break or `;`); the layout pass puts one
//   before each block's `}`.
// - Error recovery is ours, not chevrotain's (grammar/recovering-parser.ts): a statement that
//   fails to parse is dropped and the rest of its line skipped; a line that cannot start a
//   statement is skipped the same way.
import type { CstNode } from "chevrotain";
import { messages } from "./messages.js";
import { describeToken } from "./parser-messages.js";
import { RecoveringParser } from "./recovering-parser.js";
import * as T from "./tokens.js";

export class RunbookParser extends RecoveringParser {
  constructor() {
    super();
    this.performSelfAnalysis();
  }

  // ---------------------------------------------------------------------------------------------
  // Files and declarations

  // Alternatives and gated repetitions are built once, as fields: rebuilding these objects on
  // every rule invocation costs more than the parse itself (tsx adds a name to each closure).
  private readonly topLevelItem = {
    IGNORE_AMBIGUITIES: true,
    DEF: [
      { ALT: () => this.CONSUME(T.StatementEnd) },
      { ALT: () => this.guard(() => this.SUBRULE(this.useDecl), false) },
      { ALT: () => this.SUBRULE(this.runbookDecl) },
      { ALT: () => this.junk("`use` or `runbook`") },
    ],
  };

  sourceFile = this.RULE("sourceFile", () => {
    this.MANY(() => this.OR(this.topLevelItem));
  });

  useDecl = this.RULE("useDecl", () => {
    this.CONSUME(T.Use);
    this.CONSUME(T.StringLit);
    this.CONSUME(T.As);
    this.CONSUME(T.Identifier);
  });

  runbookDecl = this.RULE("runbookDecl", () => {
    this.CONSUME(T.Runbook);
    this.guard(() => {
      this.CONSUME(T.Identifier);
      this.CONSUME(T.LParen);
      this.OPTION(() => {
        this.SUBRULE(this.param);
        this.MANY(this.moreParams);
        this.OPTION2(() => this.CONSUME2(T.Comma));
      });
      this.CONSUME(T.RParen);
      this.OPTION3(() => {
        this.CONSUME(T.Arrow);
        this.SUBRULE(this.type);
      });
      this.MANY2(() => this.SUBRULE(this.headerClause));
    }, true);
    this.OPTION4(() => this.SUBRULE(this.block));
  });

  // `concurrency (key: EXPR, limit: N)` and `group "NAME"` after the header: read here as any
  // word with named arguments or a string, so the builder can name a misspelt clause exactly.
  private readonly headerClauseAlts = [
    {
      ALT: () => {
        this.CONSUME(T.LParen);
        this.OPTION(() => {
          this.SUBRULE(this.headerArg);
          this.MANY(this.moreHeaderArgs);
          this.OPTION2(() => this.CONSUME2(T.Comma));
        });
        this.CONSUME(T.RParen);
      },
    },
    { ALT: () => this.CONSUME(T.StringLit) },
  ];

  private readonly moreHeaderArgs = {
    GATE: () => this.LA(2).tokenType !== T.RParen,
    DEF: () => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.headerArg);
    },
  };

  headerClause = this.RULE("headerClause", () => {
    this.CONSUME(T.Identifier);
    this.OR(this.headerClauseAlts);
  });

  headerArg = this.RULE("headerArg", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expression);
  });

  private readonly moreParams = {
    GATE: () => this.LA(2).tokenType !== T.RParen,
    DEF: () => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.param);
    },
  };

  param = this.RULE("param", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.type);
    this.OPTION(() => {
      this.CONSUME(T.Eq);
      this.SUBRULE(this.expression);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // Types

  type = this.RULE("type", () => {
    this.SUBRULE(this.typeAtom);
    this.MANY(() => this.CONSUME(T.Question));
  });

  private readonly moreRecordFields = {
    GATE: () => this.LA(2).tokenType !== T.RCurly,
    DEF: () => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.recordField);
    },
  };

  private readonly typeAtomAlts = [
    {
      ALT: () => {
        this.CONSUME(T.Identifier);
        this.OPTION(() => {
          this.CONSUME(T.Lt);
          this.SUBRULE(this.type);
          this.CONSUME(T.Gt);
        });
      },
    },
    {
      ALT: () => {
        this.CONSUME(T.LCurly);
        this.OPTION2(() => {
          this.SUBRULE(this.recordField);
          this.MANY(this.moreRecordFields);
          this.OPTION3(() => this.CONSUME2(T.Comma));
        });
        this.CONSUME(T.RCurly);
      },
    },
  ];

  typeAtom = this.RULE("typeAtom", () => {
    this.OR(this.typeAtomAlts);
  });

  recordField = this.RULE("recordField", () => {
    this.CONSUME(T.AnyName);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.type);
  });

  // ---------------------------------------------------------------------------------------------
  // Statements

  // One token of lookahead: a line starting with `let` is a let statement even when what
  // follows is wrong, so the error names what is missing instead of "expected a statement".
  private readonly blockItem = {
    IGNORE_AMBIGUITIES: true,
    MAX_LOOKAHEAD: 1,
    DEF: [
      { ALT: () => this.CONSUME(T.StatementEnd) },
      { ALT: () => this.guard(this.stmtLineInBlock, false) },
      { ALT: () => this.junk("a statement") },
    ],
  };
  /**
   * Called with each statement line of a block as soon as it parsed (never while the grammar is
   * being recorded: it is set after construction). parse.ts builds the statement's AST there, so
   * its CST dies young instead of living, and being copied by the garbage collector, until the
   * whole file has parsed.
   */
  onStatement: ((line: CstNode) => void) | undefined;
  private readonly stmtLineInBlock = () => {
    const line = this.SUBRULE(this.stmtLine);
    if (this.onStatement !== undefined) this.onStatement(line);
  };

  private readonly blockItems = () => this.OR(this.blockItem);

  block = this.RULE("block", () => {
    this.CONSUME(T.LCurly);
    this.MANY(this.blockItems);
    this.CONSUME(T.RCurly);
  });

  /** A statement and what ends it. */
  stmtLine = this.RULE("stmtLine", () => {
    this.OR(this.statementAlts);
    this.ACTION(this.checkStatementEnd);
    this.CONSUME(T.StatementEnd);
  });

  private readonly checkStatementEnd = () => {
    const next = this.LA(1);
    if (!this.isStatementEnd(next)) {
      this.report(next, messages.missingSeparator(describeToken(next)));
      this.skipLine(false);
    }
  };

  private readonly statementAlts = {
    MAX_LOOKAHEAD: 1,
    DEF: [
      { ALT: () => this.SUBRULE(this.letStmt) },
      { ALT: () => this.SUBRULE(this.ifStmt) },
      { ALT: () => this.SUBRULE(this.whileStmt) },
      { ALT: () => this.SUBRULE(this.forStmt) },
      { ALT: () => this.CONSUME(T.Break) },
      { ALT: () => this.CONSUME(T.Continue) },
      { ALT: () => this.SUBRULE(this.returnStmt) },
      { ALT: () => this.SUBRULE(this.checkpointStmt) },
      { ALT: () => this.SUBRULE(this.sleepStmt) },
      { ALT: () => this.SUBRULE(this.suspendStmt) },
      { ALT: () => this.SUBRULE(this.streamStmt) },
      { ALT: () => this.SUBRULE(this.failStmt) },
      { ALT: () => this.SUBRULE(this.tryStmt) },
      { ALT: () => this.SUBRULE(this.retryStmt) },
      { ALT: () => this.SUBRULE(this.exprStmt) },
    ],
  };


  private readonly typeAnnotation = () => {
    this.CONSUME(T.Colon);
    this.SUBRULE(this.type);
  };

  letStmt = this.RULE("letStmt", () => {
    this.CONSUME(T.Let);
    this.CONSUME(T.Identifier);
    this.OPTION(this.typeAnnotation);
    this.CONSUME(T.Eq);
    this.SUBRULE(this.expression);
  });

  ifStmt = this.RULE("ifStmt", () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expression);
    this.SUBRULE(this.block);
    this.MANY(() => {
      this.CONSUME(T.Else);
      this.CONSUME2(T.If);
      this.SUBRULE2(this.expression);
      this.SUBRULE2(this.block);
    });
    this.OPTION(() => {
      this.CONSUME2(T.Else);
      this.SUBRULE3(this.block);
    });
  });

  whileStmt = this.RULE("whileStmt", () => {
    this.CONSUME(T.While);
    this.SUBRULE(this.expression);
    this.SUBRULE(this.block);
  });

  forStmt = this.RULE("forStmt", () => {
    this.CONSUME(T.For);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Comma);
      this.CONSUME2(T.Identifier);
    });
    this.CONSUME(T.In);
    this.SUBRULE(this.expression);
    this.SUBRULE(this.block);
  });

  returnStmt = this.RULE("returnStmt", () => {
    this.CONSUME(T.Return);
    this.OPTION(() => this.SUBRULE(this.expression));
  });

  checkpointStmt = this.RULE("checkpointStmt", () => {
    this.CONSUME(T.Checkpoint);
    this.OPTION(() => this.SUBRULE(this.expression));
  });

  sleepStmt = this.RULE("sleepStmt", () => {
    this.CONSUME(T.Sleep);
    this.SUBRULE(this.expression);
  });

  suspendStmt = this.RULE("suspendStmt", () => {
    this.CONSUME(T.Suspend);
    this.OPTION(() => this.SUBRULE(this.expression));
  });

  private readonly streamAlts = [
    { ALT: () => this.CONSUME(T.Output) },
    { ALT: () => this.CONSUME(T.Log) },
    { ALT: () => this.CONSUME(T.Warn) },
    { ALT: () => this.CONSUME(T.ErrorKw) },
  ];

  streamStmt = this.RULE("streamStmt", () => {
    this.OR(this.streamAlts);
    this.SUBRULE(this.expression);
  });

  failStmt = this.RULE("failStmt", () => {
    this.CONSUME(T.Fail);
    this.SUBRULE(this.expression);
  });

  tryStmt = this.RULE("tryStmt", () => {
    this.CONSUME(T.Try);
    this.SUBRULE(this.block);
    this.OPTION(() => {
      this.CONSUME(T.Catch);
      this.CONSUME(T.Identifier);
      this.SUBRULE2(this.block);
    });
    this.OPTION2(() => {
      this.CONSUME(T.Finally);
      this.SUBRULE3(this.block);
    });
  });

  private readonly moreRetryOptions = {
    GATE: () => this.LA(2).tokenType !== T.RParen,
    DEF: () => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.namedValue);
    },
  };

  retryStmt = this.RULE("retryStmt", () => {
    this.CONSUME(T.Retry);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.OPTION2(() => {
        this.SUBRULE(this.namedValue);
        this.MANY(this.moreRetryOptions);
        this.OPTION3(() => this.CONSUME2(T.Comma));
      });
      this.CONSUME(T.RParen);
    });
    this.SUBRULE(this.block);
  });

  /** `name: expression` (retry options). */
  namedValue = this.RULE("namedValue", () => {
    this.CONSUME(T.AnyName);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expression);
  });

  private readonly assignment = () => {
    this.CONSUME(T.AssignOp);
    this.SUBRULE2(this.expression);
  };

  exprStmt = this.RULE("exprStmt", () => {
    this.SUBRULE(this.expression);
    this.OPTION(this.assignment);
  });

  // ---------------------------------------------------------------------------------------------
  // Expressions

  /** The entry rule for the inside of `${ }`. */
  interpolation = this.RULE("interpolation", () => {
    this.SUBRULE(this.expression);
  });

  private readonly notPrefix = () => this.CONSUME(T.Not);
  private readonly minusPrefix = () => this.CONSUME(T.Minus);
  private readonly postfixTail = () => this.SUBRULE(this.postfixOp);
  /** One operand: `not`* `-`* primary postfix*. */
  private readonly operands = {
    SEP: T.BinaryOp,
    DEF: () => {
      this.MANY(this.notPrefix);
      this.MANY2(this.minusPrefix);
      this.OR(this.primaryAlts);
      this.MANY3(this.postfixTail);
    },
  };

  /**
   * `operand (op operand)*`, all in one CST node: operands are most of a file, and every rule
   * level costs a CST node and a call frame. The builder splits the node at the operators by
   * token offsets (build-expressions.ts) and applies prefix operators and precedence.
   */
  expression = this.RULE("expression", () => {
    this.AT_LEAST_ONE_SEP(this.operands);
  });

  /** primary postfix*, for the operand of `start`, `await` and `wait`. */
  postfix = this.RULE("postfix", () => {
    this.OR(this.primaryAlts);
    this.MANY(this.postfixTail);
  });

  // Arguments are inlined into the call too (no rule of their own): `(name:)? expression`,
  // separated by commas, a trailing comma allowed. The builder pairs names with values by offset.
  private readonly trailingComma = () => this.CONSUME2(T.Comma);
  private readonly firstArgumentName = () => {
    this.CONSUME3(T.AnyName);
    this.CONSUME(T.Colon);
  };
  private readonly nextArgumentName = () => {
    this.CONSUME4(T.AnyName);
    this.CONSUME2(T.Colon);
  };
  private readonly argumentList = () => {
    this.OPTION3(this.firstArgumentName);
    this.SUBRULE2(this.expression);
    this.MANY(this.moreArguments);
    this.OPTION2(this.trailingComma);
  };
  private readonly moreArguments = {
    GATE: () => this.LA(2).tokenType !== T.RParen,
    DEF: () => {
      this.CONSUME(T.Comma);
      this.OPTION4(this.nextArgumentName);
      this.SUBRULE3(this.expression);
    },
  };

  private readonly postfixAlts = [
    {
      ALT: () => {
        this.CONSUME(T.Dot);
        this.CONSUME(T.AnyName);
      },
    },
    {
      ALT: () => {
        this.CONSUME(T.QuestionDot);
        this.CONSUME2(T.AnyName);
      },
    },
    {
      ALT: () => {
        this.CONSUME(T.LBracket);
        this.SUBRULE(this.expression);
        this.CONSUME(T.RBracket);
      },
    },
    {
      ALT: () => {
        this.CONSUME(T.LParen);
        this.OPTION(this.argumentList);
        this.CONSUME(T.RParen);
      },
    },
  ];

  postfixOp = this.RULE("postfixOp", () => {
    this.OR(this.postfixAlts);
  });

  /** The alternatives of a primary expression, shared by `expression` and `postfix`. */
  private readonly primaryAlts = [
    { ALT: () => this.CONSUME(T.NumberLit) },
    { ALT: () => this.CONSUME(T.DurationLit) },
    { ALT: () => this.CONSUME(T.StringLit) },
    { ALT: () => this.CONSUME(T.True) },
    { ALT: () => this.CONSUME(T.False) },
    { ALT: () => this.CONSUME(T.Null) },
    { ALT: () => this.CONSUME(T.Identifier) },
    {
      ALT: () => {
        this.CONSUME(T.LParen);
        this.SUBRULE(this.expression);
        this.CONSUME(T.RParen);
      },
    },
    { ALT: () => this.SUBRULE(this.listLit) },
    { ALT: () => this.SUBRULE(this.mapLit) },
    { ALT: () => this.SUBRULE(this.waitExpr) },
    { ALT: () => this.SUBRULE(this.startExpr) },
    { ALT: () => this.SUBRULE(this.awaitExpr) },
    { ALT: () => this.SUBRULE(this.parallelExpr) },
  ];


  private readonly moreElements = {
    GATE: () => this.LA(2).tokenType !== T.RBracket,
    DEF: () => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.expression);
    },
  };

  listLit = this.RULE("listLit", () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression);
      this.MANY(this.moreElements);
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
  });

  private readonly moreEntries = {
    GATE: () => this.LA(2).tokenType !== T.RCurly,
    DEF: () => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.mapEntry);
    },
  };

  mapLit = this.RULE("mapLit", () => {
    this.CONSUME(T.LCurly);
    this.OPTION(() => {
      this.SUBRULE(this.mapEntry);
      this.MANY(this.moreEntries);
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  private readonly mapKeyAlts = [{ ALT: () => this.CONSUME(T.AnyName) }, { ALT: () => this.CONSUME(T.StringLit) }];

  mapEntry = this.RULE("mapEntry", () => {
    this.OR(this.mapKeyAlts);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expression);
  });

  waitExpr = this.RULE("waitExpr", () => {
    this.CONSUME(T.Wait);
    this.SUBRULE(this.postfix);
    this.OPTION(() => {
      this.CONSUME(T.Timeout);
      this.SUBRULE(this.expression);
    });
  });

  startExpr = this.RULE("startExpr", () => {
    this.CONSUME(T.Start);
    this.SUBRULE(this.postfix);
  });

  awaitExpr = this.RULE("awaitExpr", () => {
    this.CONSUME(T.Await);
    this.SUBRULE(this.postfix);
  });

  /**
   * `parallel for x (, y)? in e (limit: n, on_error: "stop")? { body }`. The options parse as a
   * call on `e`; the builder takes them off (build-expressions.ts `parallel`).
   */
  parallelExpr = this.RULE("parallelExpr", () => {
    this.CONSUME(T.Parallel);
    this.CONSUME(T.For);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Comma);
      this.CONSUME2(T.Identifier);
    });
    this.CONSUME(T.In);
    this.SUBRULE(this.expression);
    this.SUBRULE(this.block);
  });
}

/** The one parser of the process: building it (performSelfAnalysis) is the expensive part. */
export const parser = new RunbookParser();
