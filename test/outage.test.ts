/** Which failures are outages (503 UNAVAILABLE), and the throttled log that reports them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError } from 'graphql';
import { throttledLogger, type Logger } from '../src/logger.js';
import { isDatabaseOutage } from '../src/storage/outage.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDatabaseOutage', () => {
  const outages: Array<[string, unknown]> = [
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['PostgreSQL shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['PostgreSQL starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['a connection exception (08006)', withCode('connection failure', '08006')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    [
      'no connection in time',
      Object.assign(new Error('Knex: Timeout acquiring a connection.'), { name: 'KnexTimeoutError' }),
    ],
    ['SQLite locked past its busy timeout', withCode('SQLITE_BUSY: database is locked', 'SQLITE_BUSY')],
    ['every address refused', new AggregateError([withCode('refused', 'ECONNREFUSED')], 'connect failed')],
    // A hung network (issue 21): the driver's errors, which carry no code.
    ['a connection attempt past its timeout', new Error('timeout expired')],
    [
      'a query past query_timeout (after the SQL)',
      new Error('select * from "sessions" where "id" = $1 - Query read timeout'),
    ],
    ['a query on a connection dropped meanwhile', new Error('Client was closed and is not queryable')],
    ['a statement cancelled (57014)', withCode('canceling statement due to statement timeout', '57014')],
    [
      'a transaction ended for idling (25P03)',
      withCode('terminating connection due to idle-in-transaction timeout', '25P03'),
    ],
    ['wrapped by graphql-js', new GraphQLError('x', { originalError: withCode('refused', 'ECONNREFUSED') })],
    ['wrapped as a cause', new Error('query failed', { cause: withCode('reset', 'ECONNRESET') })],
  ];
  for (const [what, error] of outages) it(`is an outage: ${what}`, () => assert.equal(isDatabaseOutage(error), true));

  const bugs: Array<[string, unknown]> = [
    ['a syntax error (42601)', withCode('syntax error at or near "SELEC"', '42601')],
    ['a unique violation (23505)', withCode('duplicate key value violates unique constraint', '23505')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['another timeout that merely says so', new Error('webhook delivery timeout expired after 10 s')],
    ['not an error at all', 'ECONNREFUSED'],
  ];
  for (const [what, error] of bugs) it(`is not an outage: ${what}`, () => assert.equal(isDatabaseOutage(error), false));
});

describe('throttledLogger', () => {
  it('writes one line per kind per interval and counts what it held back', () => {
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const logger: Logger = {
      info: (message, fields) => lines.push([message, fields]),
      warn: (message, fields) => lines.push([message, fields]),
      error: (message, fields) => lines.push([message, fields]),
    };
    const log = throttledLogger(logger, 60_000);
    for (let i = 0; i < 100; i++) log('warn', 'outage', 'database unavailable');
    log('warn', 'other', 'another kind');
    assert.deepEqual(lines, [
      ['database unavailable', {}],
      ['another kind', {}],
    ]);
  });
});
