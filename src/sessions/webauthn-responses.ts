/**
 * Reading what a browser sends back from a WebAuthn ceremony (`@simplewebauthn/browser`'s
 * RegistrationResponseJSON and AuthenticationResponseJSON) before anything is verified.
 *
 * Rule: whatever is not even a response — not an object, a field missing or of the wrong type,
 * bad base64url, CBOR or authenticator data that does not parse — is BAD_USER_INPUT here, and
 * changes nothing (its challenge, if it had one, stays usable). A response that parses is handed
 * on whole, and any way it then fails to verify is INVALID_SECOND_FACTOR: the library throws
 * plain Errors for both kinds, so the line between them is drawn here, not read off its messages.
 */
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import {
  decodeAttestationObject,
  decodeCredentialPublicKey,
  parseAuthenticatorData,
} from '@simplewebauthn/server/helpers';
import { badUserInput } from './errors.js';
import { KNOWN_TRANSPORTS } from './passkey-policy.js';

/** What the browser says about the ceremony (clientDataJSON). */
export interface ClientData {
  /** `webauthn.create` or `webauthn.get`. */
  type: string;
  /** The challenge as the browser echoes it: base64url. */
  challenge: string;
  /** The page's origin, as the browser saw it. */
  origin: string;
}

/** The parts of authenticator data the rules check themselves, before the library does. */
export interface AuthenticatorFacts {
  rpIdHash: Uint8Array;
  userVerified: boolean;
  counter: number;
}

interface ParsedResponse {
  /** Canonical base64url (no padding). */
  credentialId: string;
  clientData: ClientData;
  authenticator: AuthenticatorFacts;
}

export interface ParsedRegistration extends ParsedResponse {
  /** The response as it goes to the library: only the fields it reads, checked. */
  json: RegistrationResponseJSON;
  /** The COSE algorithm of the new public key. */
  algorithm: unknown;
  transports: AuthenticatorTransport[];
}

export interface ParsedAssertion extends ParsedResponse {
  json: AuthenticationResponseJSON;
  /** The user handle, decoded (the user id given at registration); null when the browser sent none. */
  userHandle: string | null;
}

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
/**
 * The longest credential id kept: `second_factors.credential_id` holds 1,024 characters, 765
 * bytes in base64url (WebAuthn allows 1,023; authenticators use 16 to 64).
 */
const CREDENTIAL_ID_MAX_BYTES = 765;
/** The smallest authenticator data: RP ID hash, flags, counter. */
const AUTHENTICATOR_DATA_MIN_BYTES = 37;
const MAX_TRANSPORTS = 8;

const malformed = (what: string) => badUserInput(`Not a WebAuthn response: ${what}`, 'response');

function objectAt(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function base64urlAt(fields: Record<string, unknown>, name: string, where = name): Buffer {
  const value = fields[name];
  if (typeof value !== 'string' || value === '' || !BASE64URL.test(value)) {
    throw malformed(`${where} must be a base64url string`);
  }
  return Buffer.from(value, 'base64url');
}

/** `id`, `rawId` and `type`, the same in both ceremonies. */
function readCredential(value: unknown) {
  const json = objectAt(value, 'the response');
  const id = base64urlAt(json, 'id');
  if (json.rawId !== json.id) throw malformed('id and rawId must be the same base64url string');
  if (id.length > CREDENTIAL_ID_MAX_BYTES) throw malformed('the credential id is too long');
  if (json.type !== 'public-key') throw malformed('type must be "public-key"');
  const response = objectAt(json.response, 'response');
  return { id: json.id as string, credentialId: id.toString('base64url'), response };
}

function readClientData(response: Record<string, unknown>): ClientData {
  const bytes = base64urlAt(response, 'clientDataJSON', 'response.clientDataJSON');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw malformed('response.clientDataJSON is not JSON');
  }
  const data = objectAt(parsed, 'clientDataJSON');
  const { type, challenge, origin } = data;
  if (typeof type !== 'string' || typeof challenge !== 'string' || typeof origin !== 'string') {
    throw malformed('clientDataJSON needs type, challenge and origin strings');
  }
  return { type, challenge, origin };
}

/** Runs a parser of the library's over bytes from the client; whatever it throws is malformed input. */
function parsing<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch {
    throw malformed(`${what} does not parse`);
  }
}

function factsOf(authData: ReturnType<typeof parseAuthenticatorData>): AuthenticatorFacts {
  return { rpIdHash: authData.rpIdHash, userVerified: authData.flags.uv, counter: authData.counter };
}

function readTransports(value: unknown): AuthenticatorTransport[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_TRANSPORTS || value.some((item) => typeof item !== 'string')) {
    throw malformed('response.transports must be a short list of strings');
  }
  const known = (value as string[]).filter((transport) => KNOWN_TRANSPORTS.has(transport));
  return [...new Set(known)] as AuthenticatorTransport[];
}

/** A registration response (`navigator.credentials.create`), or BAD_USER_INPUT. */
export function parseRegistrationResponse(value: unknown): ParsedRegistration {
  const { id, credentialId, response } = readCredential(value);
  const clientData = readClientData(response);
  const attestationBytes = base64urlAt(response, 'attestationObject', 'response.attestationObject');
  const attestation = parsing('response.attestationObject', () =>
    decodeAttestationObject(new Uint8Array(attestationBytes)),
  );
  if (!(attestation instanceof Map) || !(attestation.get('authData') instanceof Uint8Array)) {
    throw malformed('response.attestationObject holds no authenticator data');
  }
  const authData = parsing('the attested authenticator data', () =>
    parseAuthenticatorData(attestation.get('authData')),
  );
  const { credentialID, credentialPublicKey } = authData;
  if (!credentialID || !credentialPublicKey) throw malformed('the authenticator data holds no credential');
  if (Buffer.from(credentialID).toString('base64url') !== credentialId) {
    throw malformed('id is not the credential id of the attested authenticator data');
  }
  const publicKey = parsing('the credential public key', () => decodeCredentialPublicKey(credentialPublicKey));
  if (!(publicKey instanceof Map)) throw malformed('the credential public key is not a COSE key');
  const transports = readTransports(response.transports);
  const json: RegistrationResponseJSON = {
    ...{ id, rawId: id, type: 'public-key', clientExtensionResults: {} },
    response: {
      clientDataJSON: response.clientDataJSON as string,
      attestationObject: response.attestationObject as string,
      transports,
    },
  };
  return { json, credentialId, clientData, authenticator: factsOf(authData), algorithm: publicKey.get(3), transports };
}

/** An authentication response (`navigator.credentials.get`), or BAD_USER_INPUT. */
export function parseAuthenticationResponse(value: unknown): ParsedAssertion {
  const { id, credentialId, response } = readCredential(value);
  const clientData = readClientData(response);
  const authenticatorData = base64urlAt(response, 'authenticatorData', 'response.authenticatorData');
  if (authenticatorData.length < AUTHENTICATOR_DATA_MIN_BYTES)
    throw malformed('response.authenticatorData is too short');
  const authData = parsing('response.authenticatorData', () =>
    parseAuthenticatorData(new Uint8Array(authenticatorData)),
  );
  base64urlAt(response, 'signature', 'response.signature');
  const handle = response.userHandle;
  const userHandle =
    handle === undefined || handle === null || handle === ''
      ? null
      : base64urlAt(response, 'userHandle', 'response.userHandle').toString('utf8');
  const json: AuthenticationResponseJSON = {
    ...{ id, rawId: id, type: 'public-key', clientExtensionResults: {} },
    response: {
      clientDataJSON: response.clientDataJSON as string,
      authenticatorData: response.authenticatorData as string,
      signature: response.signature as string,
    },
  };
  return { json, credentialId, clientData, authenticator: factsOf(authData), userHandle };
}
