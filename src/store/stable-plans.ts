import {
  AndNode,
  BinaryOperationNode,
  ColumnNode,
  type KyselyPlugin,
  LimitNode,
  OffsetNode,
  type OperationNode,
  OperatorNode,
  OrNode,
  ParensNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  ReferenceNode,
  type RootOperationNode,
  SelectQueryNode,
  UnaryOperationNode,
  type UnknownRow,
  ValueNode,
  WhereNode,
} from "kysely";

/**
 * Keeps Kysely's SELECTs from being compiled by SQLite at every run. SQLite (3.54, as
 * better-sqlite3 13 builds it) marks a statement to be prepared again whenever a value is bound to
 * certain parameters: any `LIMIT ?` / `OFFSET ?`, and `col = ?` in a query with ORDER BY, GROUP BY
 * or DISTINCT. better-sqlite3 binds at every run, so such a statement is prepared anew each time,
 * whatever database.ts keeps (a thread's jobs: 90 µs a run instead of 1.5; a user's preferences
 * 35 instead of 3). For SELECTs this plugin writes a numeric LIMIT/OFFSET into the text (one text
 * per value: limits are few) and, in those queries, compares the top-level `col = value` terms of
 * the WHERE as `col = + value`: the unary plus is a no-op on the value and on the comparison (same
 * affinity and collation rules), but SQLite no longer plans by that parameter.
 * One exception: a column that a partial index's WHERE names (`status`: migrations 004, 013, 022)
 * is compared with its value written into the text, because SQLite matches a partial index only
 * against a literal or a bare parameter — behind the plus, `status = + ?` reads the whole table.
 * Its values are a few fixed words, so the texts stay few.
 * Raw statements and `sql` templates, which this plugin does not touch, write the plus themselves:
 * `col = +?`, and `LIMIT +?` (SQLite does not plan by a LIMIT behind a unary plus); `status` they
 * compare with a literal.
 */
export class StablePlans implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node;
    if (!SelectQueryNode.is(node)) return node;
    const limit = node.limit && inlined(node.limit.limit);
    const offset = node.offset && inlined(node.offset.offset);
    const where = node.where && ordering(node) ? unplannedWhere(node.where.where) : undefined;
    if (!limit && !offset && !where) return node;
    return {
      ...node,
      ...(limit ? { limit: LimitNode.create(limit) } : {}),
      ...(offset ? { offset: OffsetNode.create(offset) } : {}),
      ...(where ? { where: WhereNode.create(where) } : {}),
    };
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** ORDER BY, GROUP BY and DISTINCT: the queries SQLite plans by `col = ?`'s value (measured). */
function ordering(node: SelectQueryNode): boolean {
  return (
    node.orderBy !== undefined ||
    node.groupBy !== undefined ||
    (node.frontModifiers ?? []).some((m) => m.modifier === "Distinct")
  );
}

/** A bound whole number as an immediate value; undefined when it is anything else (left bound). */
function inlined(value: OperationNode): OperationNode | undefined {
  if (!ValueNode.is(value) || value.immediate) return undefined;
  const v = value.value;
  return typeof v === "number" && Number.isSafeInteger(v) ? ValueNode.createImmediate(v) : undefined;
}

/** Columns named in a partial index's WHERE with `=`: compared with a literal (see above). */
const LITERAL_COLUMNS = new Set(["status"]);

/** The column name of a `col` or `table.col` operand; undefined for anything else. */
function columnName(node: OperationNode): string | undefined {
  if (!ReferenceNode.is(node) || !ColumnNode.is(node.column)) return undefined;
  return node.column.column.name;
}

/** The WHERE with its `x = value` terms (through AND, OR, parentheses) as `x = +value`; undefined when none. */
function unplannedWhere(node: OperationNode): OperationNode | undefined {
  if (AndNode.is(node) || OrNode.is(node)) {
    const left = unplannedWhere(node.left);
    const right = unplannedWhere(node.right);
    if (!left && !right) return undefined;
    const make = AndNode.is(node) ? AndNode.create : OrNode.create;
    return make(left ?? node.left, right ?? node.right);
  }
  if (ParensNode.is(node)) {
    const inner = unplannedWhere(node.node);
    return inner ? ParensNode.create(inner) : undefined;
  }
  if (
    BinaryOperationNode.is(node) &&
    OperatorNode.is(node.operator) &&
    node.operator.operator === "=" &&
    ValueNode.is(node.rightOperand) &&
    !node.rightOperand.immediate
  ) {
    const value = node.rightOperand.value;
    const literal =
      LITERAL_COLUMNS.has(columnName(node.leftOperand) ?? "") &&
      (typeof value === "string" || typeof value === "number");
    const right = literal
      ? ValueNode.createImmediate(value)
      : UnaryOperationNode.create(OperatorNode.create("+" as never), node.rightOperand);
    return BinaryOperationNode.create(node.leftOperand, node.operator, right);
  }
  return undefined;
}
