/**
 * DBSC proofs (docs/dbsc/protocol.md §2): a compact JWS with `typ: dbsc+jwt`, signed by a key the
 * browser cannot export, whose `jti` is a challenge the server issued. Pure: no I/O, no clock.
 *
 * Safety rules: only ES256 (P-256) and RS256 (≥ 2048-bit) keys, never `none` or an HMAC (an HMAC
 * "verified" with a public key as its secret is the classic JOSE confusion); `typ` checked by
 * `jwtVerify` (`compactVerify` would not); a refresh proof is verified against the stored key
 * only, never a key the proof brings.
 */
import { createPublicKey, type JsonWebKey as NodeJwk } from 'node:crypto';
import { decodeProtectedHeader, EmbeddedJWK, importJWK, jwtVerify, type JWK } from 'jose';

/** The algorithms Gatehouse offers, in its order of preference. */
export const DBSC_ALGORITHMS = ['ES256', 'RS256'] as const;
export type DbscAlgorithm = (typeof DBSC_ALGORITHMS)[number];

const TYP = 'dbsc+jwt';
/** A proof is a few hundred bytes (an RSA key in the header: under 1 KiB); anything this long is not one. */
const MAX_HEADER_VALUE = 8 * 1024;
const MAX_JTI = 256;
const MIN_RSA_BITS = 2048;

/** The public members of a bound key, as stored: nothing else (no private part, no `kid`, no `use`). */
export type DbscPublicKey = { kty: 'EC'; crv: 'P-256'; x: string; y: string } | { kty: 'RSA'; n: string; e: string };

export interface RegistrationProof {
  jti: string;
  alg: DbscAlgorithm;
  publicKey: DbscPublicKey;
}

/** Why a registration proof was refused: words for the audit log and the 400 answer. */
export class DbscProofError extends Error {}

/** What a refresh proof turned out to be. */
export type RefreshProofCheck =
  | { kind: 'ok'; jti: string }
  /** Not a proof at all (truncated, not a JWS, wrong `typ`): a fresh challenge, never an end. */
  | { kind: 'malformed' }
  /** A well-formed proof that another key signed (or another `alg`, or one carrying its own `jwk`). */
  | { kind: 'wrong-key' };

/**
 * A request header's value as RFC 8941 sf-string (`"…"`, escapes, parameters after it ignored) or
 * bare up to the first `;` (Chrome sends both headers DBSC servers read bare). Undefined for
 * anything that is neither, empty, too long, or outside the JWS / id alphabet.
 */
export function parseSfStringOrBare(value: string | undefined): string | undefined {
  if (value === undefined || value.length > MAX_HEADER_VALUE) return undefined;
  const trimmed = value.trim();
  let text: string;
  if (trimmed.startsWith('"')) {
    let out = '';
    let i = 1;
    for (; i < trimmed.length; i++) {
      const char = trimmed[i]!;
      if (char === '\\') {
        const next = trimmed[++i];
        if (next !== '"' && next !== '\\') return undefined;
        out += next;
      } else if (char === '"') break;
      else out += char;
    }
    if (i >= trimmed.length) return undefined;
    text = out;
  } else {
    text = trimmed.split(';', 1)[0]!.trim();
  }
  return /^[A-Za-z0-9_.~+/=-]+$/.test(text) ? text : undefined;
}

/**
 * Verifies a registration proof against the key in its own header, as DBSC has it (the browser
 * made the key just now). Throws {@link DbscProofError} saying why it is refused.
 */
export async function verifyRegistrationProof(jwt: string): Promise<RegistrationProof> {
  let verified;
  try {
    verified = await jwtVerify(jwt, EmbeddedJWK, { algorithms: [...DBSC_ALGORITHMS], typ: TYP });
  } catch (error) {
    throw new DbscProofError(`not a valid DBSC proof: ${joseReason(error)}`);
  }
  const { protectedHeader, payload } = verified;
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI) throw new DbscProofError('no challenge (jti)');
  const alg = protectedHeader.alg as DbscAlgorithm;
  return { jti, alg, publicKey: publicKeyOf(protectedHeader.jwk!, alg) };
}

/** The header key reduced to its public members, checked against the algorithm and the size floor. */
function publicKeyOf(jwk: JWK, alg: DbscAlgorithm): DbscPublicKey {
  if (alg === 'ES256') {
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y)
      throw new DbscProofError('ES256 needs a P-256 key');
    return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  }
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new DbscProofError('RS256 needs an RSA key');
  const bits = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e } as NodeJwk, format: 'jwk' })
    .asymmetricKeyDetails?.modulusLength;
  if (!bits || bits < MIN_RSA_BITS) throw new DbscProofError(`RSA keys need at least ${MIN_RSA_BITS} bits`);
  return { kty: 'RSA', n: jwk.n, e: jwk.e };
}

/**
 * Checks a refresh proof against the key and algorithm stored at registration. Tells a proof
 * that is not one (`malformed`: answered with a fresh challenge) from one another key signed
 * (`wrong-key`: the session's cookie in the hands of someone without its key).
 */
export async function verifyRefreshProof(
  jwt: string,
  stored: DbscPublicKey,
  alg: DbscAlgorithm,
): Promise<RefreshProofCheck> {
  let header;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    return { kind: 'malformed' };
  }
  if (jwt.split('.').length !== 3 || header.typ !== TYP) return { kind: 'malformed' };
  if (header.alg !== alg || header.jwk !== undefined) return { kind: 'wrong-key' };
  try {
    const key = await importJWK(stored as JWK, alg);
    const { payload } = await jwtVerify(jwt, key, { algorithms: [alg], typ: TYP });
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI) return { kind: 'malformed' };
    return { kind: 'ok', jti };
  } catch (error) {
    const code = (error as { code?: string }).code;
    // A signature that does not verify is another key's; a payload that is not JSON is no proof.
    return code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? { kind: 'wrong-key' } : { kind: 'malformed' };
  }
}

function joseReason(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code} (${message})` : message;
}
