/**
 * A software WebAuthn authenticator, as a browser and a platform authenticator together: it
 * answers Gatehouse's options with the JSON @simplewebauthn/browser sends
 * (RegistrationResponseJSON, AuthenticationResponseJSON), from keys made with node:crypto.
 *
 * Registration: an ES256 (P-256) or RS256 key pair, attestation `none`, authenticator data with
 * the RP ID's hash, flags UP, UV, AT and BE/BS (a synced platform passkey), the counter, and the
 * attested credential (AAGUID, id, COSE key). Assertions: authenticator data without credential,
 * signed with the credential's key over authData ‖ SHA-256(clientDataJSON), ECDSA in DER as
 * WebAuthn has it. Every bad input a test needs is a knob ({@link CeremonyKnobs}).
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

export type Algorithm = 'ES256' | 'RS256';

/** A stored passkey of the authenticator: its key and the account it belongs to. */
export interface SoftCredential {
  id: Buffer;
  algorithm: Algorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  rpId: string;
  /** The user handle given at registration (`user.id` of the options), as bytes. */
  userHandle: Buffer;
  /** The signature counter: 0 at registration, one more at each assertion, unless it keeps none. */
  counter: number;
  /** False for a synced passkey, which keeps no counter (always 0). */
  counts: boolean;
}

/** What a test can make the authenticator (or the browser around it) get wrong. */
export interface CeremonyKnobs {
  /** The page's origin written in clientDataJSON. Default: the authenticator's. */
  origin?: string;
  /** The RP ID whose hash goes into authenticator data. Default: the options'. */
  rpId?: string;
  /** The UV flag. Default true. */
  userVerified?: boolean;
  /** The challenge echoed in clientDataJSON. Default: the options'. */
  challenge?: string;
  /** clientDataJSON's type. Default: `webauthn.create` / `webauthn.get`. */
  type?: string;
  /** The counter to report, instead of the next one. */
  counter?: number;
  /** Signs with this key instead of the credential's (an assertion by another key). */
  signWith?: KeyObject;
  /** The user handle sent (base64url), or null for none. Default: the credential's. */
  userHandle?: string | null;
  /** Registration: the credential to register again (same id and key) instead of a new one. */
  credential?: SoftCredential;
  /** Assertion: the credential to use. Default: the first of allowCredentials it holds, or its newest. */
  use?: SoftCredential;
}

/** The parts of PublicKeyCredentialCreationOptionsJSON this authenticator reads. */
export interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  pubKeyCredParams: Array<{ alg: number; type: string }>;
  excludeCredentials?: Array<{ id: string }>;
}

/** The parts of PublicKeyCredentialRequestOptionsJSON this authenticator reads. */
export interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: Array<{ id: string }>;
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;
const COSE_ALGORITHMS: Record<Algorithm, number> = { ES256: -7, RS256: -257 };

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64url = (bytes: Buffer) => bytes.toString('base64url');

function uint(value: number, bytes: 2 | 4): Buffer {
  const buffer = Buffer.alloc(bytes);
  if (bytes === 2) buffer.writeUInt16BE(value);
  else buffer.writeUInt32BE(value);
  return buffer;
}

/** What the tiny CBOR encoder below takes: what attestation objects and COSE keys are made of. */
export type CborValue = number | string | Uint8Array | Map<number | string, CborValue>;

function cborHead(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.concat([Buffer.from([(major << 5) | 25]), uint(length, 2)]);
  return Buffer.concat([Buffer.from([(major << 5) | 26]), uint(length, 4)]);
}

/** CBOR (RFC 8949) of integers, byte and text strings, and maps with integer or text keys. */
export function encodeCbor(value: CborValue): Buffer {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, text.length), text]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  const entries = [...value].map(([key, item]) => Buffer.concat([encodeCbor(key), encodeCbor(item)]));
  return Buffer.concat([cborHead(5, value.size), ...entries]);
}

/** The credential's public key as a COSE_Key (RFC 9053): EC2 P-256 or RSA. */
function coseKey(credential: Pick<SoftCredential, 'algorithm' | 'publicKey'>): Buffer {
  const jwk = credential.publicKey.export({ format: 'jwk' });
  const bytes = (field: string | undefined) => Buffer.from(field ?? '', 'base64url');
  const key =
    credential.algorithm === 'ES256'
      ? new Map<number, CborValue>([
          [1, 2],
          [3, -7],
          [-1, 1],
          [-2, bytes(jwk.x)],
          [-3, bytes(jwk.y)],
        ])
      : new Map<number, CborValue>([
          [1, 3],
          [3, -257],
          [-1, bytes(jwk.n)],
          [-2, bytes(jwk.e)],
        ]);
  return encodeCbor(key);
}

export function newKeyPair(algorithm: Algorithm) {
  return algorithm === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  private readonly algorithm: Algorithm;
  private readonly counts: boolean;

  constructor(
    /** The origin of the page the browser runs the ceremonies on. */
    readonly origin: string,
    options: { algorithm?: Algorithm; countsSignatures?: boolean } = {},
  ) {
    this.algorithm = options.algorithm ?? 'ES256';
    this.counts = options.countsSignatures ?? true;
  }

  /** Answers creation options as `navigator.credentials.create` would, through @simplewebauthn/browser. */
  register(options: CreationOptions, knobs: CeremonyKnobs = {}) {
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    const excluded = new Set((options.excludeCredentials ?? []).map((entry) => entry.id));
    if (!knobs.credential && this.credentials.some((held) => excluded.has(b64url(held.id)))) {
      throw new Error('InvalidStateError: this authenticator already holds a credential in excludeCredentials');
    }
    if (!options.pubKeyCredParams.some((param) => param.alg === COSE_ALGORITHMS[this.algorithm])) {
      throw new Error(`NotSupportedError: ${this.algorithm} is not offered`);
    }
    const credential = knobs.credential ?? this.newCredential(rpId, options.user.id);
    const attested = Buffer.concat([
      Buffer.alloc(16),
      uint(credential.id.length, 2),
      credential.id,
      coseKey(credential),
    ]);
    const authData = this.authenticatorData(
      knobs.rpId ?? rpId,
      knobs,
      FLAG_AT,
      knobs.counter ?? credential.counter,
      attested,
    );
    const attestationObject = encodeCbor(
      new Map<string, CborValue>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    if (!knobs.credential) this.credentials.push(credential);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: { credProps: { rk: true } },
      response: {
        clientDataJSON: this.clientData('webauthn.create', options.challenge, knobs),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: ['hybrid', 'internal'],
        publicKeyAlgorithm: COSE_ALGORITHMS[credential.algorithm],
        publicKey: b64url(credential.publicKey.export({ format: 'der', type: 'spki' })),
      },
    };
  }

  /** Answers request options as `navigator.credentials.get` would, through @simplewebauthn/browser. */
  authenticate(options: RequestOptions, knobs: CeremonyKnobs = {}) {
    const rpId = options.rpId ?? new URL(this.origin).hostname;
    const credential = knobs.use ?? this.pick(rpId, options.allowCredentials ?? []);
    if (knobs.counter === undefined && credential.counts) credential.counter += 1;
    const authData = this.authenticatorData(knobs.rpId ?? rpId, knobs, 0, knobs.counter ?? credential.counter);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, knobs);
    const signed = Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]);
    const signature = sign('sha256', signed, knobs.signWith ?? credential.privateKey);
    const userHandle = knobs.userHandle === undefined ? b64url(credential.userHandle) : knobs.userHandle;
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON,
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
    };
  }

  private newCredential(rpId: string, userId: string): SoftCredential {
    const { privateKey, publicKey } = newKeyPair(this.algorithm);
    const userHandle = Buffer.from(userId, 'base64url');
    const { algorithm, counts } = this;
    return { id: randomBytes(16), algorithm, privateKey, publicKey, rpId, userHandle, counter: 0, counts };
  }

  private pick(rpId: string, allowed: ReadonlyArray<{ id: string }>): SoftCredential {
    const ids = new Set(allowed.map((entry) => entry.id));
    const usable = this.credentials.filter(
      (credential) => credential.rpId === rpId && (ids.size === 0 || ids.has(b64url(credential.id))),
    );
    const credential = usable.at(-1);
    if (!credential) throw new Error(`NotAllowedError: no credential for ${rpId} among ${allowed.length} allowed`);
    return credential;
  }

  private authenticatorData(
    rpId: string,
    knobs: CeremonyKnobs,
    extraFlags: number,
    counter: number,
    attested?: Buffer,
  ) {
    const flags = FLAG_UP | (knobs.userVerified === false ? 0 : FLAG_UV) | FLAG_BE | FLAG_BS | extraFlags;
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), uint(counter, 4), attested ?? Buffer.alloc(0)]);
  }

  private clientData(type: string, challenge: string, knobs: CeremonyKnobs): string {
    const data = {
      type: knobs.type ?? type,
      challenge: knobs.challenge ?? challenge,
      origin: knobs.origin ?? this.origin,
      crossOrigin: false,
    };
    return b64url(Buffer.from(JSON.stringify(data)));
  }
}
