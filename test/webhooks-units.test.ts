/**
 * The pure parts of webhooks (addresses, retry outcomes, signatures, settings) and one attempt of
 * the sender against loopback receivers: redirects, body size, timeout.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { ConfigError, loadConfig } from '../src/config.js';
import { guardedLookup, isPublicAddress, refusedAddress } from '../src/webhooks/addresses.js';
import { outcomeOf } from '../src/webhooks/outcome.js';
import { MAX_RESPONSE_BYTES, sendWebhook } from '../src/webhooks/sender.js';
import { generateSecret, signatureHeaders } from '../src/webhooks/signing.js';
import { HOUR, MINUTE, SECOND } from './support/clock.js';
import { Receiver } from './support/receiver.js';

describe('isPublicAddress', () => {
  it('refuses loopback, private, shared, link-local, multicast, reserved and documentation ranges', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.255.254',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '224.0.0.1',
      '240.0.0.1',
      '255.255.255.255',
      '192.0.2.1',
      '198.18.0.1',
      '::',
      '::1',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'fe80::1%eth0',
      'ff02::1',
      '2001:db8::1',
      '[::1]',
      'localhost',
      '',
    ]) {
      assert.equal(isPublicAddress(address), false, address);
    }
  });

  it('judges an IPv6 address carrying an IPv4 one by that IPv4 address', () => {
    for (const address of ['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '::127.0.0.1']) {
      assert.equal(isPublicAddress(address), false, address);
    }
    assert.equal(isPublicAddress('64:ff9b::a00:1'), false, 'NAT64 of 10.0.0.1');
    assert.equal(isPublicAddress('2002:c0a8:101::1'), false, '6to4 of 192.168.1.1');
    for (const address of ['::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']) {
      assert.equal(isPublicAddress(address), true, address);
    }
  });

  it('accepts public unicast addresses', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111']) {
      assert.equal(isPublicAddress(address), true, address);
    }
  });

  it('refusedAddress checks literal IPs only; names are left to the lookup', () => {
    assert.ok(refusedAddress('127.0.0.1', false));
    assert.ok(refusedAddress('[::ffff:7f00:1]', false));
    assert.equal(refusedAddress('127.0.0.1', true), undefined);
    assert.equal(refusedAddress('example.com', false), undefined);
  });
});

describe('guardedLookup', () => {
  /** A resolver that answers `answers` for every name, as dns.lookup with `all: true` would. */
  const resolver =
    (answers: LookupAddress[]) => (_name: string, _options: object, done: (e: null, a: LookupAddress[]) => void) =>
      done(null, answers);
  const lookup = (answers: LookupAddress[], all: boolean, allowPrivate = false) =>
    new Promise<{ error: Error | null; result: unknown }>((resolve) =>
      guardedLookup(allowPrivate, resolver(answers))('hooks.example', { all }, (error, address, family) =>
        resolve({ error, result: all ? address : [address, family] }),
      ),
    );
  const PUBLIC = { address: '93.184.215.14', family: 4 };
  const PUBLIC_6 = { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 };

  it('hands the socket exactly the answers it checked, one or all', async () => {
    assert.deepEqual(await lookup([PUBLIC, PUBLIC_6], true), { error: null, result: [PUBLIC, PUBLIC_6] });
    assert.deepEqual(await lookup([PUBLIC, PUBLIC_6], false), { error: null, result: [PUBLIC.address, 4] });
  });

  it('refuses a name if any answer is not public (a rebinding answer mixed with a public one)', async () => {
    for (const answers of [
      [{ address: '127.0.0.1', family: 4 }],
      [PUBLIC, { address: '10.1.2.3', family: 4 }],
      [PUBLIC_6, { address: '::ffff:169.254.169.254', family: 6 }],
    ]) {
      for (const all of [true, false]) {
        const { error } = await lookup(answers, all);
        assert.match(String(error), /refused: hooks\.example \(.+\) is not a public address/, JSON.stringify(answers));
      }
    }
    assert.equal((await lookup([{ address: '127.0.0.1', family: 4 }], true, true)).error, null, 'allowed');
  });
});

describe('outcomeOf', () => {
  const schedule = [5 * SECOND, 5 * MINUTE, 30 * MINUTE];
  const now = 1_000_000;

  it('2xx is delivered; 410 fails and disables; others retry on the schedule, then fail', () => {
    assert.equal(outcomeOf({ statusCode: 204, durationMs: 1 }, 1, schedule, now).status, 'DELIVERED');
    assert.deepEqual(outcomeOf({ statusCode: 410, durationMs: 1 }, 1, schedule, now), {
      status: 'FAILED',
      nextAttemptAt: null,
      disableWebhook: true,
    });
    const middle = () => 0.5;
    for (const [attempt, delay] of schedule.entries()) {
      for (const result of [{ statusCode: 503 }, { statusCode: 302 }, { error: 'timed out' }]) {
        assert.deepEqual(outcomeOf({ ...result, durationMs: 1 }, attempt + 1, schedule, now, middle), {
          status: 'PENDING',
          nextAttemptAt: now + delay,
          disableWebhook: false,
        });
      }
    }
    assert.equal(outcomeOf({ statusCode: 503, durationMs: 1 }, 4, schedule, now).status, 'FAILED');
  });

  it('jitter stays within 10% of the delay', () => {
    const low = outcomeOf({ statusCode: 500, durationMs: 1 }, 2, schedule, now, () => 0);
    const high = outcomeOf({ statusCode: 500, durationMs: 1 }, 2, schedule, now, () => 0.999999);
    assert.equal(low.nextAttemptAt, now + 0.9 * 5 * MINUTE);
    assert.equal(high.nextAttemptAt, now + 1.1 * 5 * MINUTE);
  });
});

describe('signatures', () => {
  it('are what the standardwebhooks package signs and verifies', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ type: 'session.ended', data: { note: 'ünïcode ✓' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = signatureHeaders(secret, 'msg-1', timestamp, body);
    const reference = new Webhook(secret);
    assert.equal(headers['webhook-signature'], reference.sign('msg-1', new Date(timestamp * 1000), body));
    assert.deepEqual(reference.verify(body, headers), JSON.parse(body));
    assert.throws(() => reference.verify(body.replace('ended', 'started'), headers));
    assert.throws(() => new Webhook(generateSecret()).verify(body, headers));
  });
});

describe('sendWebhook: one attempt', () => {
  const send = (url: string, timeoutMs = 2_000) =>
    sendWebhook({ url, body: '{}', headers: {}, timeoutMs, allowPrivate: true });

  it('does not follow a redirect: the attempt fails and the other target gets nothing', async () => {
    const target = await Receiver.start();
    const redirecting = await Receiver.start();
    redirecting.answer = () => (response) => response.writeHead(307, { location: target.url }).end();
    try {
      const result = await send(redirecting.url);
      assert.equal(result.statusCode, 307);
      assert.equal(result.error, `HTTP 307: redirect to ${target.url} not followed`);
      assert.equal(target.requests.length, 0);
    } finally {
      await Promise.all([target.close(), redirecting.close()]);
    }
  });

  it('reads at most a few KB of a huge response, and keeps a printable start of it', async () => {
    const receiver = await Receiver.start();
    let written = 0;
    receiver.answer = () => (response) => {
      response.writeHead(500);
      const chunk = Buffer.alloc(64 * 1024, 'x\u0007');
      const pump = () => {
        while (written < 50 * 1024 * 1024 && response.write(chunk)) written += chunk.length;
        if (written < 50 * 1024 * 1024) response.once('drain', pump);
      };
      response.on('error', () => undefined);
      pump();
    };
    try {
      const result = await send(receiver.url);
      assert.equal(result.statusCode, 500);
      assert.match(result.error ?? '', /^HTTP 500: (x ?)+$/);
      assert.ok((result.error ?? '').length <= 220);
      assert.ok(written < 5 * 1024 * 1024, `the receiver wrote ${written} bytes before the connection was cut`);
      assert.ok(MAX_RESPONSE_BYTES <= 8192);
    } finally {
      await receiver.close();
    }
  });

  it('gives up after the timeout on a receiver that never answers', async () => {
    const receiver = await Receiver.start();
    receiver.answer = () => 'hang';
    try {
      const result = await send(receiver.url, 300);
      assert.equal(result.statusCode, undefined);
      assert.equal(result.error, 'timed out after 300 ms');
      assert.ok(result.durationMs >= 290 && result.durationMs < 1_000, `${result.durationMs} ms`);
    } finally {
      await receiver.close();
    }
  });

  it('refuses a private target before connecting when private targets are not allowed', async () => {
    const receiver = await Receiver.start();
    try {
      for (const url of [receiver.url, `http://localhost:${receiver.port}/`]) {
        const result = await sendWebhook({ url, body: '{}', headers: {}, timeoutMs: 1_000, allowPrivate: false });
        assert.match(result.error ?? '', /^refused: .* is not a public address/, url);
      }
      assert.equal(receiver.requests.length, 0);
    } finally {
      await receiver.close();
    }
  });
});

describe('webhook settings', () => {
  it('defaults as DESIGN.md says; private targets allowed except in production', () => {
    const config = loadConfig({});
    assert.deepEqual(config.webhookRetryScheduleMs, [
      5 * SECOND,
      5 * MINUTE,
      30 * MINUTE,
      2 * HOUR,
      5 * HOUR,
      10 * HOUR,
      10 * HOUR,
    ]);
    assert.equal(config.webhookTimeoutMs, 10 * SECOND);
    assert.equal(config.webhookAllowPrivate, true);
    assert.equal(loadConfig({ NODE_ENV: 'production' }).webhookAllowPrivate, false);
    assert.equal(loadConfig({ NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE: 'on' }).webhookAllowPrivate, true);
  });

  it('reads each setting', () => {
    const config = loadConfig({
      WEBHOOK_RETRY_SCHEDULE: '100ms, 1s,2m',
      WEBHOOK_TIMEOUT: '2s',
      WEBHOOK_ALLOW_PRIVATE: 'off',
    });
    assert.deepEqual(config.webhookRetryScheduleMs, [100, SECOND, 2 * MINUTE]);
    assert.equal(config.webhookTimeoutMs, 2 * SECOND);
    assert.equal(config.webhookAllowPrivate, false);
  });

  it('refuses bad values, naming the setting and the value', () => {
    for (const [setting, value] of [
      ['WEBHOOK_RETRY_SCHEDULE', '5s,,5m'],
      ['WEBHOOK_RETRY_SCHEDULE', 'soon'],
      ['WEBHOOK_RETRY_SCHEDULE', '5s;5m'],
      ['WEBHOOK_RETRY_SCHEDULE', '1ms'],
      ['WEBHOOK_RETRY_SCHEDULE', Array(21).fill('1s').join(',')],
      ['WEBHOOK_TIMEOUT', '10'],
      ['WEBHOOK_TIMEOUT', 'forever'],
      ['WEBHOOK_ALLOW_PRIVATE', 'maybe'],
    ] as const) {
      assert.throws(
        () => loadConfig({ [setting]: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.setting === setting &&
          error.value === value &&
          error.message.includes(setting),
        `${setting}=${value}`,
      );
    }
  });
});
