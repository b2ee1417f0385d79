/**
 * `gatehouse/client`: Gatehouse for front ends, in browsers (and in Node with a cookie-keeping
 * `fetch`). Framework-free; `gatehouse/react` adds a provider and a hook. Its one dependency is
 * graphql-ws; documents are sent as strings, so graphql-js is not needed at run time.
 */
export { createClient, type ClientOptions, type GatehouseClient } from './client.js';
export type { CookieRefusal } from './cookie-refusal.js';
export { GatehouseError, isGatehouseError, type ClientErrorCode, type GraphQLErrorBody } from './errors.js';
export type { AssuranceLevel, AuthenticationMethod, LoginStep, Role, SessionEndReason } from './generated.js';
export type { Fetch, TypedDocument } from './http.js';
export { SESSION_ENDED_CLOSE_CODE, type Sink } from './session-socket.js';
export type { SessionEndedEvent, SessionEndedListener } from './session-keeper.js';
export type { LoginResult, Session, SessionState, User } from './session-state.js';
