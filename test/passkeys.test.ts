/**
 * Passkeys (DESIGN.md, "Second factors and passkeys"): registration, request options, assertions
 * and the challenges between them, on a real server over HTTP, driven by a software
 * authenticator (support/soft-authenticator.ts) that can get every part of a ceremony wrong.
 * Each refusal is checked for its code and for what it left: no passkey stored, the counter as
 * it was, the challenge used up (a response that parsed) or still usable (one that did not).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  AuthEventsDocument,
  DisableUserDocument,
  ReauthenticateDocument,
  StartPasskeyLoginDocument,
  StartPasskeyRegistrationDocument,
} from './generated/graphql.js';
import { runSweeper } from './support/app.js';
import { MINUTE, SECOND } from './support/clock.js';
import { DATABASE_KINDS } from './support/databases.js';
import { openSocket } from './support/live.js';
import {
  challengeCount,
  clientFrom,
  finishRegistration,
  loginOptions,
  passkeyLogin,
  passkeyRows,
  refusal,
  registerPasskey,
  registrationOptions,
  userIdOf,
  PASSKEY_TEST_ENV as ENV,
  REAUTH_WINDOW_MS,
  uniqueName,
} from './support/passkeys.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { passwordOf } from './support/sessions.js';
import { newKeyPair, SoftAuthenticator, type CeremonyKnobs } from './support/soft-authenticator.js';
import { createLogger } from '../src/logger.js';
import { clientNetworkOf } from '../src/sessions/webauthn-challenges.js';

/** A new user signed in (a fresh login: step-up passes), with its id and an authenticator on the server's origin. */
async function newUser(server: TestServer, prefix: string, authenticator = new SoftAuthenticator(server.url)) {
  const username = uniqueName(prefix);
  const client = await server.userClient(username);
  return { username, client, userId: await userIdOf(client), authenticator };
}

/** Every way a registration response can fail to be one, made from a good response. */
function malformedRegistrations(good: ReturnType<SoftAuthenticator['register']>): Array<[string, unknown]> {
  const { response } = good;
  const withResponse = (changes: Record<string, unknown>) => ({ ...good, response: { ...response, ...changes } });
  const clientData = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    ['a string', 'not a response'],
    ['an array', [good]],
    ['an empty object', {}],
    ['no response', { ...good, response: undefined }],
    ['id not base64url', { ...good, id: 'not base64url!', rawId: 'not base64url!' }],
    ['rawId not id', { ...good, rawId: randomBytes(16).toString('base64url') }],
    ['type not public-key', { ...good, type: 'password' }],
    ['clientDataJSON missing', withResponse({ clientDataJSON: undefined })],
    ['clientDataJSON not base64url', withResponse({ clientDataJSON: '{"type":"webauthn.create"}' })],
    ['clientDataJSON not JSON', withResponse({ clientDataJSON: Buffer.from('not json').toString('base64url') })],
    ['clientDataJSON without a challenge', withResponse({ clientDataJSON: clientData({ type: 'webauthn.create' }) })],
    [
      'attestationObject of garbage CBOR',
      withResponse({ attestationObject: Buffer.from([0xff, 0x00]).toString('base64url') }),
    ],
    ['attestationObject random bytes', withResponse({ attestationObject: randomBytes(64).toString('base64url') })],
    [
      'attestationObject a CBOR number',
      withResponse({ attestationObject: Buffer.from([0x18, 0x2a]).toString('base64url') }),
    ],
    ['transports not a list', withResponse({ transports: 'usb' })],
  ];
}

/** Well-formed responses that must not verify, and what the refusal says. */
const UNVERIFIABLE_REGISTRATIONS: Array<[string, CeremonyKnobs, RegExp]> = [
  ['a foreign origin', { origin: 'https://evil.example' }, /not an origin allowed/],
  ['another RP ID', { rpId: 'evil.example' }, /another relying party/],
  ['user verification off', { userVerified: false }, /did not verify the user/],
  ['a clientDataJSON of type webauthn.get', { type: 'webauthn.get' }, /Expected a webauthn.create/],
];

for (const kind of DATABASE_KINDS) {
  describe(`passkeys: registration (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind, env: ENV });
    });
    after(() => server?.stop());

    it('creation options: attestation none, a discoverable credential with user verification, ES256 and RS256, the user, and the passkeys to exclude', async () => {
      const { client, userId, username, authenticator } = await newUser(server, 'opal');
      const options = (await registrationOptions(client)) as unknown as Record<string, unknown> & {
        user: { id: string };
        excludeCredentials: Array<{ id: string }>;
      };
      assert.equal(options.attestation, 'none');
      assert.deepEqual(options.authenticatorSelection, {
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: 'required',
      });
      assert.deepEqual(options.pubKeyCredParams, [
        { alg: -7, type: 'public-key' },
        { alg: -257, type: 'public-key' },
      ]);
      assert.deepEqual(options.rp, { name: 'Gatehouse', id: '127.0.0.1' });
      assert.deepEqual(options.user, {
        id: Buffer.from(userId).toString('base64url'),
        name: username,
        displayName: username,
      });
      assert.equal(options.timeout, 5 * MINUTE);
      assert.match(String(options.challenge), /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(options.excludeCredentials, []);
      await registerPasskey(client, authenticator);
      const next = (await registrationOptions(client)) as unknown as typeof options;
      const [stored] = await passkeyRows(server, userId);
      assert.deepEqual(
        next.excludeCredentials.map((entry) => entry.id),
        [stored?.credential_id],
      );
      assert.throws(
        () => authenticator.register(next as never),
        /InvalidStateError/,
        'the browser refuses a second one',
      );
    });

    it('a registered passkey is stored with its credential id, COSE key, counter and transports, confirmed at once, and audited', async () => {
      const { client, userId, authenticator } = await newUser(server, 'pearl');
      const factor = await registerPasskey(client, authenticator, {}, '  Work laptop ');
      assert.equal(factor.kind, 'PASSKEY');
      assert.equal(factor.name, 'Work laptop');
      assert.equal(factor.lastUsedAt, null);
      const [row, ...others] = await passkeyRows(server, userId);
      assert.deepEqual(others, []);
      assert.ok(row);
      const credential = authenticator.credentials[0]!;
      assert.equal(row.id, factor.id);
      assert.equal(row.credential_id, credential.id.toString('base64url'));
      assert.equal(Number(row.sign_count), 0);
      assert.equal(row.transports, 'hybrid,internal');
      assert.equal(Number(row.confirmed_at), Number(row.created_at));
      assert.equal(row.last_used_at, null);
      // The COSE key: an EC2 map whose x coordinate is the credential's.
      const x = Buffer.from(credential.publicKey.export({ format: 'jwk' }).x!, 'base64url');
      assert.ok(Buffer.from(row.public_key, 'base64url').includes(x));
      const admin = await server.adminClient();
      const { authEvents } = await admin.data(AuthEventsDocument, { userId, types: ['SECOND_FACTOR_ADDED'], first: 5 });
      assert.equal(authEvents.totalCount, 1);
      // A passkey without a name is called "Passkey".
      const unnamed = await registerPasskey(client, new SoftAuthenticator(server.url));
      assert.equal(unnamed.name, 'Passkey');
    });

    it('RS256 passkeys register and sign in', async () => {
      const { client, userId, authenticator } = await newUser(
        server,
        'ruby',
        new SoftAuthenticator(server.url, { algorithm: 'RS256' }),
      );
      await registerPasskey(client, authenticator);
      const proof = await passkeyLogin(server, authenticator.authenticate(await loginOptions(server.client())));
      assert.equal(proof.userId, userId);
    });

    it('both steps need a recent proof (REAUTHENTICATION_REQUIRED otherwise, nothing stored); anonymous callers are UNAUTHENTICATED', async () => {
      const { client, userId, username, authenticator } = await newUser(server, 'stella');
      const options = await registrationOptions(client);
      server.clock.advance(REAUTH_WINDOW_MS + SECOND);
      assert.equal(
        refusal(await finishRegistration(client, authenticator.register(options))),
        'REAUTHENTICATION_REQUIRED',
      );
      assert.equal(refusal(await client.request(StartPasskeyRegistrationDocument)), 'REAUTHENTICATION_REQUIRED');
      assert.deepEqual(await passkeyRows(server, userId), []);
      assert.equal(refusal(await server.client().request(StartPasskeyRegistrationDocument)), 'UNAUTHENTICATED');
      // A fresh proof (the password, for a user without a factor yet) lets it through.
      await client.data(ReauthenticateDocument, { password: passwordOf(username) });
      await registerPasskey(client, authenticator);
      assert.equal((await passkeyRows(server, userId)).length, 1);
    });

    it('malformed responses are BAD_USER_INPUT, store nothing, and leave the challenge usable', async () => {
      const { client, userId, authenticator } = await newUser(server, 'mabel');
      const options = await registrationOptions(client);
      const good = authenticator.register(options);
      for (const [label, response] of malformedRegistrations(good)) {
        assert.equal(refusal(await finishRegistration(client, response)), 'BAD_USER_INPUT', label);
      }
      assert.equal(refusal(await finishRegistration(client, null)), 'BAD_USER_INPUT', 'null');
      assert.deepEqual(await passkeyRows(server, userId), []);
      const result = await finishRegistration(client, good);
      assert.equal(result.errors, undefined, `the challenge is still good: ${JSON.stringify(result.errors)}`);
    });

    it('names: too long or with control characters are BAD_USER_INPUT before anything is used up', async () => {
      const { client, userId, authenticator } = await newUser(server, 'nina');
      const good = authenticator.register(await registrationOptions(client));
      for (const name of ['x'.repeat(65), 'tab\there']) {
        assert.equal(refusal(await finishRegistration(client, good, name)), 'BAD_USER_INPUT', name);
      }
      assert.deepEqual(await passkeyRows(server, userId), []);
      assert.equal((await finishRegistration(client, good, 'x'.repeat(64))).errors, undefined);
    });

    for (const [label, knobs, why] of UNVERIFIABLE_REGISTRATIONS) {
      it(`${label}: INVALID_SECOND_FACTOR, nothing stored, the challenge used up`, async () => {
        const { client, userId, authenticator } = await newUser(server, 'vera');
        const options = await registrationOptions(client);
        const result = await finishRegistration(client, authenticator.register(options, knobs));
        assert.equal(refusal(result), 'INVALID_SECOND_FACTOR');
        assert.match(result.errors?.[0]?.message ?? '', why);
        assert.deepEqual(await passkeyRows(server, userId), []);
        const retry = await finishRegistration(client, new SoftAuthenticator(server.url).register(options));
        assert.equal(refusal(retry), 'INVALID_SECOND_FACTOR', 'a good response to the same options comes too late');
        assert.match(retry.errors?.[0]?.message ?? '', /already used/);
        assert.deepEqual(await passkeyRows(server, userId), []);
      });
    }

    it('an unknown challenge is refused and leaves the real one usable', async () => {
      const { client, userId, authenticator } = await newUser(server, 'uma');
      const options = await registrationOptions(client);
      const forged = authenticator.register(options, { challenge: randomBytes(32).toString('base64url') });
      assert.equal(refusal(await finishRegistration(client, forged)), 'INVALID_SECOND_FACTOR');
      assert.equal(
        refusal(await finishRegistration(client, authenticator.register(options, { challenge: 'short' }))),
        'INVALID_SECOND_FACTOR',
      );
      assert.deepEqual(await passkeyRows(server, userId), []);
      await registerPasskey(client, new SoftAuthenticator(server.url));
    });

    it("another user's challenge, and a login challenge, do not register a passkey", async () => {
      const first = await newUser(server, 'olga');
      const second = await newUser(server, 'olive');
      const options = await registrationOptions(first.client);
      assert.equal(
        refusal(await finishRegistration(second.client, second.authenticator.register(options))),
        'INVALID_SECOND_FACTOR',
      );
      const login = await loginOptions(server.client());
      const asRegistration = second.authenticator.register({ ...options, challenge: login.challenge });
      assert.equal(refusal(await finishRegistration(second.client, asRegistration)), 'INVALID_SECOND_FACTOR');
      assert.deepEqual(await passkeyRows(server, second.userId), []);
      assert.deepEqual(await passkeyRows(server, first.userId), []);
    });

    it('a challenge answers once: a replay is refused, and of two answers sent together one registers', async () => {
      const { client, userId, authenticator } = await newUser(server, 'rita');
      const response = authenticator.register(await registrationOptions(client));
      assert.equal((await finishRegistration(client, response)).errors, undefined);
      assert.equal(refusal(await finishRegistration(client, response)), 'INVALID_SECOND_FACTOR', 'the replay');
      const options = await registrationOptions(client);
      const [a, b] = [new SoftAuthenticator(server.url), new SoftAuthenticator(server.url)];
      const results = await Promise.all([a, b].map((each) => finishRegistration(client, each.register(options))));
      assert.deepEqual(results.map((result) => result.errors?.[0]?.extensions?.code ?? 'ok').sort(), [
        'INVALID_SECOND_FACTOR',
        'ok',
      ]);
      assert.equal((await passkeyRows(server, userId)).length, 2);
    });

    it('a challenge expires after 5 minutes', async () => {
      const { client, userId, authenticator } = await newUser(server, 'edna');
      const options = await registrationOptions(client);
      server.clock.advance(5 * MINUTE);
      const result = await finishRegistration(client, authenticator.register(options));
      assert.equal(refusal(result), 'INVALID_SECOND_FACTOR');
      assert.match(result.errors?.[0]?.message ?? '', /expired/);
      assert.deepEqual(await passkeyRows(server, userId), []);
    });

    it('a credential id stored already (another user’s) is BAD_USER_INPUT and stores nothing', async () => {
      const first = await newUser(server, 'dora');
      await registerPasskey(first.client, first.authenticator);
      const second = await newUser(server, 'dina');
      const copy = first.authenticator.register(await registrationOptions(second.client), {
        credential: first.authenticator.credentials[0],
      });
      const result = await finishRegistration(second.client, copy);
      assert.equal(refusal(result), 'BAD_USER_INPUT');
      assert.deepEqual(await passkeyRows(server, second.userId), []);
      assert.equal((await passkeyRows(server, first.userId)).length, 1);
    });

    it('a user holds at most 20 passkeys', async () => {
      const { client, userId } = await newUser(server, 'hilda');
      for (let i = 0; i < 20; i++) await registerPasskey(client, new SoftAuthenticator(server.url));
      assert.equal(refusal(await client.request(StartPasskeyRegistrationDocument)), 'BAD_USER_INPUT');
      assert.equal((await passkeyRows(server, userId)).length, 20);
    });
  });
}

/** Every way an authentication response can fail to be one, made from a good response. */
function malformedAssertions(good: ReturnType<SoftAuthenticator['authenticate']>): Array<[string, unknown]> {
  const withResponse = (changes: Record<string, unknown>) => ({ ...good, response: { ...good.response, ...changes } });
  return [
    ['a number', 42],
    ['no response', { ...good, response: 'none' }],
    ['authenticatorData not base64url', withResponse({ authenticatorData: 'no good!' })],
    ['authenticatorData too short', withResponse({ authenticatorData: randomBytes(20).toString('base64url') })],
    ['authenticatorData with garbage CBOR', withResponse({ authenticatorData: garbageExtensions(good) })],
    ['no signature', withResponse({ signature: undefined })],
    ['userHandle not base64url', withResponse({ userHandle: '***' })],
    ['clientDataJSON an array', withResponse({ clientDataJSON: Buffer.from('[]').toString('base64url') })],
  ];
}

/** The assertion's authenticator data claiming extensions (flag ED) followed by bytes that are no CBOR. */
function garbageExtensions(good: ReturnType<SoftAuthenticator['authenticate']>): string {
  const data = Buffer.from(good.response.authenticatorData, 'base64url');
  data[32] = data[32]! | 0x80;
  return Buffer.concat([data, Buffer.from([0xff])]).toString('base64url');
}

for (const kind of DATABASE_KINDS) {
  describe(`passkeys: request options and assertions (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind, env: ENV });
    });
    after(() => server?.stop());

    /** A user with one registered passkey (an authenticator that counts its signatures unless told otherwise). */
    async function userWithPasskey(prefix: string, options: { countsSignatures?: boolean } = {}) {
      const user = await newUser(server, prefix, new SoftAuthenticator(server.url, options));
      await registerPasskey(user.client, user.authenticator);
      const [row] = await passkeyRows(server, user.userId);
      return { ...user, credential: user.authenticator.credentials[0]!, passkeyId: row!.id };
    }

    async function storedPasskey(userId: string) {
      const [row] = await passkeyRows(server, userId);
      assert.ok(row);
      return {
        signCount: Number(row.sign_count),
        lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
      };
    }

    it('without a username: discoverable options (no credentials listed), user verification required, this RP ID, 5 minutes', async () => {
      const options = (await loginOptions(server.client())) as unknown as Record<string, unknown>;
      assert.deepEqual(options.allowCredentials, []);
      assert.equal(options.userVerification, 'required');
      assert.equal(options.rpId, '127.0.0.1');
      assert.equal(options.timeout, 5 * MINUTE);
      assert.match(String(options.challenge), /^[A-Za-z0-9_-]{43}$/);
    });

    it("with a username: that user's credentials; a username without passkeys or without an account gets a decoy of the same shape, the same each time", async () => {
      const owner = await userWithPasskey('gwen');
      const anonymous = server.client();
      const listed = await loginOptions(anonymous, owner.username.toUpperCase());
      assert.deepEqual(listed.allowCredentials, [
        { id: owner.credential.id.toString('base64url'), type: 'public-key' },
      ]);
      const withoutPasskey = await newUser(server, 'gina');
      const decoys = [];
      for (const username of [withoutPasskey.username, 'nobody-at-all', 'nobody-at-all']) {
        const options = await loginOptions(anonymous, username);
        assert.deepEqual(Object.keys(options).sort(), Object.keys(listed).sort(), username);
        assert.equal(options.allowCredentials?.length, 1);
        const [decoy] = options.allowCredentials!;
        assert.deepEqual(Object.keys(decoy!), ['id', 'type']);
        assert.match(decoy!.id, /^[A-Za-z0-9_-]{22}$/, 'as long as a real one');
        decoys.push(decoy!.id);
      }
      assert.equal(decoys[1], decoys[2], 'the same username, the same decoy');
      assert.notEqual(decoys[0], decoys[1], 'another username, another decoy');
      assert.equal(
        refusal(await anonymous.request(StartPasskeyLoginDocument, { username: 'x'.repeat(300) })),
        'BAD_USER_INPUT',
      );
    });

    it('signed in without a username: its own passkeys, with their transports; none registered is BAD_USER_INPUT', async () => {
      const owner = await userWithPasskey('hazel');
      const options = await loginOptions(owner.client);
      assert.deepEqual(options.allowCredentials, [
        { id: owner.credential.id.toString('base64url'), transports: ['hybrid', 'internal'], type: 'public-key' },
      ]);
      const { client } = await newUser(server, 'holly');
      assert.equal(refusal(await client.request(StartPasskeyLoginDocument, {})), 'BAD_USER_INPUT');
    });

    it('over a WebSocket too, with the RP ID of the upgrade request', async () => {
      const socket = openSocket(server);
      try {
        await socket.connected;
        const results = socket.client.iterate({ query: 'mutation { startPasskeyLogin }' });
        const { value } = await results.next();
        const options = (value as { data: { startPasskeyLogin: { rpId: string; allowCredentials: unknown[] } } }).data;
        assert.equal(options.startPasskeyLogin.rpId, '127.0.0.1');
        assert.deepEqual(options.startPasskeyLogin.allowCredentials, []);
      } finally {
        await socket.dispose();
      }
    });

    it('a discoverable assertion signs its user in: the counter and last use are recorded', async () => {
      const { userId, authenticator } = await userWithPasskey('iris');
      const before = server.clock.now().getTime();
      const outcome = await passkeyLogin(server, authenticator.authenticate(await loginOptions(server.client())));
      assert.deepEqual(outcome, { userId });
      assert.deepEqual(await storedPasskey(userId), { signCount: 1, lastUsedAt: before });
      const second = await passkeyLogin(server, authenticator.authenticate(await loginOptions(server.client())));
      assert.deepEqual(second, { userId });
      assert.equal((await storedPasskey(userId)).signCount, 2);
    });

    it('a passkey that keeps no counter (0 every time) signs in again and again', async () => {
      const { userId, authenticator } = await userWithPasskey('june', { countsSignatures: false });
      for (let i = 0; i < 3; i++) {
        const outcome = await passkeyLogin(server, authenticator.authenticate(await loginOptions(server.client())));
        assert.deepEqual(outcome, { userId });
      }
      assert.equal((await storedPasskey(userId)).signCount, 0);
    });

    it('malformed assertions are BAD_USER_INPUT and leave the challenge usable', async () => {
      const { userId, authenticator } = await userWithPasskey('kara');
      const good = authenticator.authenticate(await loginOptions(server.client()));
      for (const [label, response] of malformedAssertions(good)) {
        assert.equal((await passkeyLogin(server, response)).code, 'BAD_USER_INPUT', label);
      }
      assert.deepEqual(await storedPasskey(userId), { signCount: 0, lastUsedAt: null });
      assert.deepEqual(await passkeyLogin(server, good), { userId });
    });

    const UNVERIFIABLE: Array<[string, (user: { credential: { userHandle: Buffer } }) => CeremonyKnobs, RegExp]> = [
      ['a foreign origin', () => ({ origin: 'https://evil.example' }), /not an origin allowed/],
      ['another RP ID', () => ({ rpId: 'evil.example' }), /another relying party/],
      ['user verification off', () => ({ userVerified: false }), /did not verify the user/],
      ["another key's signature", () => ({ signWith: newKeyPair('ES256').privateKey }), /did not verify/],
      [
        'a user handle naming someone else',
        () => ({ userHandle: Buffer.from('someone-else').toString('base64url') }),
        /user handle/,
      ],
      ['no user handle on a discoverable login', () => ({ userHandle: null }), /user handle/],
      ['a clientDataJSON of type webauthn.create', () => ({ type: 'webauthn.create' }), /Expected a webauthn.get/],
    ];
    for (const [label, knobsOf, why] of UNVERIFIABLE) {
      it(`an assertion with ${label}: INVALID_SECOND_FACTOR, audited, the counter unchanged, the challenge used up`, async () => {
        const user = await userWithPasskey('lena');
        const options = await loginOptions(server.client());
        const outcome = await passkeyLogin(server, user.authenticator.authenticate(options, knobsOf(user)));
        assert.equal(outcome.code, 'INVALID_SECOND_FACTOR');
        assert.match(outcome.message ?? '', why);
        assert.deepEqual(await storedPasskey(user.userId), { signCount: 0, lastUsedAt: null });
        const retry = await passkeyLogin(server, user.authenticator.authenticate(options));
        assert.equal(retry.code, 'INVALID_SECOND_FACTOR', 'the right answer to the same options comes too late');
        const admin = await server.adminClient();
        const { authEvents } = await admin.data(AuthEventsDocument, {
          userId: user.userId,
          types: ['SECOND_FACTOR_FAILED'],
        });
        assert.ok(authEvents.totalCount >= 1, `${label} is audited against its user`);
      });
    }

    it('an unknown passkey, a replayed assertion, an expired or a registration challenge: INVALID_SECOND_FACTOR', async () => {
      const user = await userWithPasskey('mona');
      const stranger = new SoftAuthenticator(server.url);
      stranger.register({ ...(await registrationOptions(user.client)), challenge: 'unused' });
      const unknown = await passkeyLogin(server, stranger.authenticate(await loginOptions(server.client())));
      assert.equal(unknown.code, 'INVALID_SECOND_FACTOR');
      assert.match(unknown.message ?? '', /did not verify/);

      const good = user.authenticator.authenticate(await loginOptions(server.client()));
      assert.deepEqual(await passkeyLogin(server, good), { userId: user.userId });
      assert.equal((await passkeyLogin(server, good)).code, 'INVALID_SECOND_FACTOR', 'replayed');

      const late = await loginOptions(server.client());
      server.clock.advance(5 * MINUTE);
      assert.match((await passkeyLogin(server, user.authenticator.authenticate(late))).message ?? '', /expired/);

      const registration = await registrationOptions(user.client);
      const crossed = user.authenticator.authenticate({
        ...(await loginOptions(server.client())),
        challenge: registration.challenge,
      });
      assert.match((await passkeyLogin(server, crossed)).message ?? '', /not issued for authentication/);
      assert.equal((await storedPasskey(user.userId)).signCount, 1);
    });

    it('a counter that does not go up is refused, audited as PASSKEY_COUNTER_REGRESSED, and the stored one kept', async () => {
      const { userId, authenticator } = await userWithPasskey('nora');
      for (let i = 0; i < 3; i++)
        await passkeyLogin(server, authenticator.authenticate(await loginOptions(server.client())));
      assert.equal((await storedPasskey(userId)).signCount, 3);
      for (const counter of [3, 2, 0]) {
        const outcome = await passkeyLogin(
          server,
          authenticator.authenticate(await loginOptions(server.client()), { counter }),
        );
        assert.equal(outcome.code, 'INVALID_SECOND_FACTOR', `counter ${counter}`);
        assert.match(outcome.message ?? '', /counter/);
      }
      assert.equal((await storedPasskey(userId)).signCount, 3);
      const admin = await server.adminClient();
      const { authEvents } = await admin.data(AuthEventsDocument, { userId, types: ['PASSKEY_COUNTER_REGRESSED'] });
      assert.equal(authEvents.totalCount, 3);
      // A counter with a bad signature raises no alarm: only a verified signature speaks for the authenticator.
      const forged = authenticator.authenticate(await loginOptions(server.client()), {
        counter: 1,
        signWith: newKeyPair('ES256').privateKey,
      });
      assert.match((await passkeyLogin(server, forged)).message ?? '', /did not verify/);
      const after = await admin.data(AuthEventsDocument, { userId, types: ['PASSKEY_COUNTER_REGRESSED'] });
      assert.equal(after.authEvents.totalCount, 3);
      assert.deepEqual(await passkeyLogin(server, authenticator.authenticate(await loginOptions(server.client()))), {
        userId,
      });
    });

    it('a challenge issued to a user (its own options, signed in) answers only for that user’s passkeys', async () => {
      const first = await userWithPasskey('opal');
      const second = await userWithPasskey('oona');
      const own = await loginOptions(first.client);
      const crossed = second.authenticator.authenticate({ ...own, allowCredentials: [] });
      const outcome = await passkeyLogin(server, crossed);
      assert.equal(outcome.code, 'INVALID_SECOND_FACTOR');
      assert.match(outcome.message ?? '', /issued to another account/);
      assert.deepEqual(await storedPasskey(second.userId), { signCount: 0, lastUsedAt: null });
    });

    it("a disabled user's passkey is ACCOUNT_DISABLED (once its signature verified), and its counter stays", async () => {
      const { userId, authenticator } = await userWithPasskey('pia');
      const admin = await server.adminClient();
      await admin.data(DisableUserDocument, { userId });
      const outcome = await passkeyLogin(server, authenticator.authenticate(await loginOptions(server.client())));
      assert.equal(outcome.code, 'ACCOUNT_DISABLED');
      assert.deepEqual(await storedPasskey(userId), { signCount: 0, lastUsedAt: null });
      const { authEvents } = await admin.data(AuthEventsDocument, { userId, types: ['LOGIN_REFUSED_DISABLED'] });
      assert.equal(authEvents.totalCount, 1);
      const forged = authenticator.authenticate(await loginOptions(server.client()), {
        signWith: newKeyPair('ES256').privateKey,
      });
      assert.equal((await passkeyLogin(server, forged)).code, 'INVALID_SECOND_FACTOR', 'says nothing without the key');
    });

    it('failed assertions are throttled per client IP, like failed passwords', async () => {
      const { userId, authenticator } = await userWithPasskey('quinn');
      const ipAddress = '203.0.113.7';
      const forged = async () =>
        passkeyLogin(
          server,
          authenticator.authenticate(await loginOptions(server.client()), { signWith: newKeyPair('ES256').privateKey }),
          clientFrom(server, ipAddress),
        );
      const codes = [];
      for (let i = 0; i < 21; i++) codes.push((await forged()).code);
      assert.deepEqual(
        new Set(codes.slice(0, 20)),
        new Set(['INVALID_SECOND_FACTOR']),
        'IP_THROTTLE: 20 free failures',
      );
      assert.equal(codes[20], 'RATE_LIMITED');
      const good = authenticator.authenticate(await loginOptions(server.client()));
      assert.equal(
        (await passkeyLogin(server, good, clientFrom(server, ipAddress))).code,
        'RATE_LIMITED',
        'the right passkey waits too',
      );
      assert.deepEqual(
        await passkeyLogin(server, good, clientFrom(server, '203.0.113.8')),
        { userId },
        'its challenge still usable',
      );
    });
  });

  describe(`passkeys: challenges (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind, env: ENV });
    });
    after(() => server?.stop());

    it('a user holds at most 10 outstanding challenges: a new one pushes out the oldest', async () => {
      const { client, userId, authenticator } = await newUser(server, 'tess');
      const options = [];
      for (let i = 0; i < 12; i++) {
        options.push(await registrationOptions(client));
        server.clock.advance(1);
      }
      assert.equal(await challengeCount(server, { user_id: userId }), 10);
      for (const pushedOut of options.slice(0, 2)) {
        assert.equal(
          refusal(await finishRegistration(client, authenticator.register(pushedOut))),
          'INVALID_SECOND_FACTOR',
        );
      }
      assert.equal(
        (await finishRegistration(client, new SoftAuthenticator(server.url).register(options[11]!))).errors,
        undefined,
      );
    });

    it('anonymous login options: at most 50 outstanding per network, so asking in a loop cannot fill the table', async () => {
      const anonymous = server.client();
      for (let i = 0; i < 60; i++) {
        await loginOptions(anonymous);
        server.clock.advance(1);
      }
      assert.equal(await challengeCount(server, { client_network: '127.0.0.1' }), 50);
      assert.equal(await challengeCount(server, { user_id: null }), 50);
    });

    it('networks: an IPv4 address is its own, IPv6 addresses count by their /64', () => {
      assert.equal(clientNetworkOf('192.0.2.7'), '192.0.2.7');
      assert.equal(clientNetworkOf('::ffff:192.0.2.7'), '192.0.2.7');
      assert.equal(clientNetworkOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
      assert.equal(clientNetworkOf('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
      assert.equal(clientNetworkOf('2001:db8::1'), '2001:db8:0:0::/64');
      assert.equal(clientNetworkOf('::1'), '0:0:0:0::/64');
      assert.equal(clientNetworkOf(null), null);
    });

    it('the sweeper deletes challenges that expired unanswered, in batches, and leaves the others', async () => {
      const { client } = await newUser(server, 'ursa');
      await server.db('webauthn_challenges').delete();
      for (let i = 0; i < 3; i++) await registrationOptions(client);
      for (let i = 0; i < 4; i++) await loginOptions(server.client());
      server.clock.advance(5 * MINUTE);
      await loginOptions(server.client());
      const result = await runSweeper(server);
      assert.equal(result.deletedChallenges, 7);
      assert.equal(await challengeCount(server), 1);
    });
  });
}

describe('passkeys: challenges at rest and in logs (sqlite)', () => {
  let server: TestServer;
  let logs = '';
  before(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    });
    const logger = createLogger({ level: 'debug', destination });
    server = await startTestServer({ database: 'sqlite', env: QUIET_SWEEPER, overrides: { logger } });
  });
  after(() => server?.stop());

  it('only the SHA-256 of a challenge is stored, and no challenge, response or signature is logged', async () => {
    const { client, authenticator } = await newUser(server, 'wanda');
    const registration = await registrationOptions(client);
    const created = authenticator.register(registration);
    assert.equal((await finishRegistration(client, created)).errors, undefined);
    const outstanding = await registrationOptions(client);
    const login = await loginOptions(server.client());
    const assertion = authenticator.authenticate(login);
    assert.ok((await passkeyLogin(server, assertion)).userId);
    const failing = await loginOptions(server.client());
    const forged = authenticator.authenticate(failing, { signWith: newKeyPair('ES256').privateKey });
    assert.equal((await passkeyLogin(server, forged)).code, 'INVALID_SECOND_FACTOR');
    await server.stopApp();

    const path = server.database.sqlitePath!;
    const stored = Buffer.concat(
      [path, `${path}-wal`, `${path}-shm`].filter((file) => existsSync(file)).map((file) => readFileSync(file)),
    );
    const hashOf = (challenge: string) => createHash('sha256').update(challenge).digest('hex');
    assert.ok(stored.includes(hashOf(outstanding.challenge)), 'the scan reads the data: the outstanding hash is there');
    const challenges = [registration, outstanding, login, failing].map((options) => options.challenge);
    for (const challenge of challenges) {
      assert.equal(stored.includes(challenge), false, `challenge ${challenge} stored`);
      assert.equal(stored.includes(Buffer.from(challenge, 'base64url')), false, 'challenge bytes stored');
      assert.equal(logs.includes(challenge), false, `challenge ${challenge} logged`);
    }
    assert.ok(logs.includes('second factor failed'), 'the scan reads the log: the failure is there');
    const sent = [created.response.clientDataJSON, created.response.attestationObject, assertion.response.signature];
    for (const part of [...sent, forged.response.clientDataJSON, forged.response.signature]) {
      assert.equal(logs.includes(part), false, 'a response logged');
    }
  });
});
