/** `--stream`: the form parses from the right (brokers hold colons), and a bad value stops start-up with one clear line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../runtime/config.js';
import { parseStreamSpec, parseStreamSpecs } from '../runtime/streams/stream-spec.js';
import { idemKeyOf, recordCall } from '../runtime/streams/record-call.js';
import { PartitionWindow } from '../runtime/streams/partition-window.js';

test('kafka:BROKERS:TOPIC:Type.method', () => {
  assert.deepEqual({ ...parseStreamSpec('kafka:127.0.0.1:9092,10.0.0.2:19092:pay.ments-1:Account.deposit') }, {
    engine: 'kafka', brokers: ['127.0.0.1:9092', '10.0.0.2:19092'], topic: 'pay.ments-1', type: 'Account', method: 'deposit',
  });
  assert.equal(parseStreamSpecs('kafka:h:1:a:A.b; kafka:h:1:b:A.b').length, 2);
  assert.deepEqual(parseStreamSpecs(''), []);
});

test('a bad --stream value is one ConfigError line naming the flag and the form', () => {
  for (const [value, says] of [
    ['rabbit:h:1:t:A.b', /engine must be one of kafka/],
    ['kafka:t:A.b', /brokers, a topic and Type.method/],
    ['kafka:h:1:t:Account', /'Account' is not Type.method/],
    ['kafka:localhost:99999:t:A.b', /broker 'localhost:99999' is not host:port/],
    ['kafka:h:1:bad topic:A.b', /not a Kafka topic name/],
    ['kafka:h:1:t:A.b;kafka:h:1:t:A.c', /named twice/],
  ] as const) {
    assert.throws(() => loadConfig(['--actors', 'x.js', '--stream', value], {}), (err: Error) => {
      assert.equal(err.name, 'ConfigError');
      assert.match(err.message, /^--stream: /);
      assert.match(err.message, says);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    });
  }
});

test('a record becomes Type.method(JSON value) keyed by the record key, with its position as idem key', () => {
  const spec = parseStreamSpec('kafka:h:1:t:Account.deposit');
  const r = { topic: 't', partition: 3, offset: '9007199254740993', key: Buffer.from('acct-1'), value: Buffer.from('25') };
  assert.equal(idemKeyOf(r), '~s:kafka:t:3/9007199254740993');
  const call = { type: 'Account', key: 'acct-1', method: 'deposit', args: [25], idem: '~s:kafka:t:3/9007199254740993', caller: 'stream:t', timeoutMs: 1000 };
  assert.deepEqual(recordCall(spec, r, 1000), { call });
  // The partition's committed offset rides along as the key's ack, when a number holds it exactly.
  assert.deepEqual(recordCall(spec, r, 1000, 120), { call: { ...call, ack: 120 } });
  assert.deepEqual(recordCall(spec, r, 1000, 2 ** 60), { call });
  assert.deepEqual(recordCall(spec, r, 1000, -1), { call });
  assert.ok('skip' in recordCall(spec, { ...r, value: Buffer.from('{nope') }, 1000));
  assert.ok('skip' in recordCall(spec, { ...r, key: null }, 1000));
});

test('the window commits only the answered prefix and keeps one key in order', async () => {
  const w = new PartitionWindow(8);
  const order: number[] = [];
  const gates = new Map<number, () => void>();
  const run = (o: number) => () => new Promise<boolean>((resolve) => gates.set(o, () => {
    order.push(o);
    resolve(true);
  }));
  w.start(10n, 'a', run(10));
  w.start(11n, 'b', run(11));
  w.start(12n, 'a', run(12));
  await new Promise((r) => setImmediate(r));
  assert.ok(!gates.has(12), 'the second record of key a waits for the first');
  gates.get(11)!();
  await new Promise((r) => setImmediate(r));
  assert.equal(w.committable, null, '11 answered but 10 not: nothing to commit');
  gates.get(10)!();
  await new Promise((r) => setImmediate(r));
  assert.equal(w.committable, 12n);
  gates.get(12)!();
  await w.settled(async () => {});
  assert.equal(w.committable, 13n);
  assert.deepEqual(order, [11, 10, 12]);
});
