import { StoreUnavailableError } from '@sessionkit/core';
import { telemetryInstalled, traced, tracingOn } from '@sessionkit/core/telemetry';
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryExecutor,
  QueryResult,
  RootOperationNode,
} from 'kysely';
import { DefaultQueryExecutor, Kysely } from 'kysely';

const SCOPE = '@sessionkit/storage-kysely';

/** Statements built with kysely's query builder say what they are; raw SQL is named by its first keyword. */
const OPERATIONS: Partial<Record<RootOperationNode['kind'], string>> = {
  SelectQueryNode: 'SELECT',
  InsertQueryNode: 'INSERT',
  UpdateQueryNode: 'UPDATE',
  DeleteQueryNode: 'DELETE',
  MergeQueryNode: 'MERGE',
};

function operationOf(query: CompiledQuery): string {
  return OPERATIONS[query.query.kind] ?? (/^\s*([a-z]+)/i.exec(query.sql)?.[1] ?? 'SQL').toUpperCase();
}

/** pg and PGlite errors carry the SQLSTATE (`23505`, `57014`, ...): a code, never data. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * A span per statement, named after its operation, as OTel's database conventions describe it. The text is
 * kysely's compiled SQL, whose values are all `$n` placeholders: parameters (tokens' hashes, user ids, IPs'
 * hashes) are never exported.
 */
function statementSpan<R>(query: CompiledQuery, run: () => Promise<QueryResult<R>>): Promise<QueryResult<R>> {
  const operation = operationOf(query);
  const attributes = {
    'db.system.name': 'postgresql',
    'db.operation.name': operation,
    'db.query.text': query.sql,
  };
  return traced(
    SCOPE,
    operation,
    attributes,
    async (notes) => {
      try {
        return await run();
      } catch (error) {
        notes.set('db.response.status_code', sqlState(error));
        throw error;
      }
    },
    'client',
  );
}

/**
 * The connection as the driver made it, with `executeQuery` traced: a proxy, so a driver that reaches its own
 * connection's other members (PGlite's begin and commit, pg's release) still finds them.
 */
function tracedConnection(connection: DatabaseConnection): DatabaseConnection {
  return new Proxy(connection, {
    get(target, property) {
      if (property === 'executeQuery') {
        return <R>(query: CompiledQuery) => statementSpan(query, () => target.executeQuery<R>(query));
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Statements on the traced handle go through it; transactions are opened on the plain one (`traceStatements`). */
function refuse(): never {
  throw new StoreUnavailableError('A statement-traced kysely handle opens no transaction nor connection');
}

const NO_DRIVER: Driver = {
  init: async () => {},
  acquireConnection: refuse,
  beginTransaction: refuse,
  commitTransaction: refuse,
  rollbackTransaction: refuse,
  releaseConnection: refuse,
  // The handle owns nothing: the store destroys the kysely it was given.
  destroy: async () => {},
};

const NO_DIALECT: Dialect = {
  createDriver: () => NO_DRIVER,
  createQueryCompiler: refuse,
  createAdapter: refuse,
  createIntrospector: refuse,
};

/**
 * `db` with a child span per SQL statement under whatever span is active (the store call's), through
 * `@opentelemetry/api` only: without it `db` itself is returned, and with it but no SDK each statement costs a
 * few property reads. Statements run exactly as on `db` (same compiler, plugins, schema and connections); only
 * `transaction()` and `connection()` are refused: open those on `db` and trace the handle they give.
 */
export function traceStatements<DB>(db: Kysely<DB>): Kysely<DB> {
  if (!telemetryInstalled) return db;
  const inner: QueryExecutor = db.getExecutor();
  const executor = new DefaultQueryExecutor(
    { compileQuery: (node, queryId) => inner.compileQuery(node, queryId) },
    inner.adapter,
    {
      // Checked per connection handed out: with no SDK registered the driver's own connection goes through.
      provideConnection: (consume) =>
        inner.provideConnection((connection) =>
          consume(tracingOn() ? tracedConnection(connection) : connection),
        ),
    },
    [...inner.plugins],
  );
  return new Kysely<DB>({
    config: { dialect: NO_DIALECT },
    executor,
    dialect: NO_DIALECT,
    driver: NO_DRIVER,
  });
}
