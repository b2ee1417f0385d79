import { valueFromASTUntyped } from 'graphql';
import { badUserInput } from '../sessions/errors.js';
import { builder } from './builder.js';

builder.scalarType('DateTime', {
  description: 'An instant as an ISO-8601 string in UTC, e.g. 2026-11-25T18:00:00.000Z.',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw badUserInput('DateTime must be an ISO-8601 string');
    return date;
  },
});

builder.scalarType('JSON', {
  description:
    'Any JSON value, passed through as it is: the WebAuthn options Gatehouse sends and the responses browsers make of them.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node, variables) => valueFromASTUntyped(node, variables),
});
