/**
 * `gatehouse/verify`: checks Gatehouse sessions in another Node service, from memory while the
 * session-end feed proves that no end has been missed, else with Gatehouse. Imports nothing from
 * the rest of Gatehouse: it ships to other services.
 */
export { createVerifier } from './verifier.js';
export { GatehouseUnavailableError } from './errors.js';
export type {
  FastifyInstanceLike,
  FastifyPluginAsync,
  FastifyReplyLike,
  FastifyRequestLike,
  IncomingRequestLike,
  RequestHandler,
  ServerResponseLike,
  VerifiedSession,
  Verifier,
  VerifierLogger,
  VerifierOptions,
} from './types.js';
