/** The member list both engines share: canonical members, deduplicated change events. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemberList, canonicalMember, sameMember, validateMember } from '../runtime/discovery/member-list.js';
import type { Member } from '../runtime/discovery/index.js';
import { collectingLogger, quietLogger, type LogEntry } from './discovery-contract.js';

const m = (id: string, extra: Partial<Member> = {}): Member => canonicalMember({ id, address: '127.0.0.1', port: 1000, linkPort: 1001, ...extra });

describe('discovery member list', () => {
  it('sorts by id and notifies only when the list really changed', () => {
    const list = new MemberList(quietLogger);
    const calls: string[][] = [];
    list.subscribe((ms) => calls.push(ms.map((x) => x.id)));
    assert.equal(list.set([m('b'), m('a')]), true);
    assert.equal(list.set([m('a'), m('b')]), false, 'same set in another order is no change');
    assert.equal(list.set([m('a'), m('b', { meta: {} })]), false, 'empty meta equals no meta');
    assert.equal(list.set([m('a'), m('b', { zone: 'z' })]), true, 'a changed field is a change');
    assert.equal(list.set([m('a'), m('b', { zone: 'z' })]), false);
    assert.deepEqual(calls, [['a', 'b'], ['a', 'b']]);
    assert.ok(Object.isFrozen(list.current));
  });

  it('a throwing listener is logged and does not stop the others; unsubscribe works during the fan-out', () => {
    const logs: LogEntry[] = [];
    const list = new MemberList(collectingLogger(logs));
    let second = 0;
    const offFirst = list.subscribe(() => {
      offFirst();
      throw new Error('boom');
    });
    list.subscribe(() => (second += 1));
    list.set([m('a')]);
    list.set([m('b')]);
    assert.equal(second, 2);
    assert.equal(logs.length, 1);
    assert.equal(logs[0].event, 'discovery.listener_failed');
    assert.equal(logs[0].fields?.error, 'boom');
  });

  it('compares meta by content, in any key order', () => {
    assert.ok(sameMember(m('a', { meta: { x: '1', y: '2' } }), m('a', { meta: { y: '2', x: '1' } })));
    assert.ok(!sameMember(m('a', { meta: { x: '1' } }), m('a', { meta: { x: '2' } })));
    assert.ok(!sameMember(m('a'), m('a', { linkPort: 5 })));
  });

  it('validates members, naming the field', () => {
    assert.throws(() => validateMember({ id: '', address: 'h', port: 1, linkPort: 2 }), /member\.id/);
    assert.throws(() => validateMember({ id: 'a', address: '[::1]', port: 1, linkPort: 2 }), /member\.address/);
    assert.throws(() => validateMember({ id: 'a', address: 'h', port: 1.5, linkPort: 2 }), /member\.port/);
    assert.throws(() => validateMember({ id: 'a', address: 'h', port: 1, linkPort: 0 }), /member\.linkPort/);
    assert.throws(() => validateMember({ id: 'a', address: 'h', port: 1, linkPort: 2, meta: { 'a.b': 'x' } }), /meta key/);
    assert.throws(() => validateMember({ id: 'a', address: 'h', port: 1, linkPort: 2, meta: { 'consul-x': 'x' } }), /meta key/);
    assert.throws(() => validateMember({ id: 'a', address: 'h', port: 1, linkPort: 2, meta: { linkPort: '3' } }), /reserved/);
    const v = validateMember({ id: 'a', address: 'h', port: 1, linkPort: 2, zone: 'z', meta: { b: '1', a: '2' }, extra: 1 } as Member);
    assert.deepEqual(Object.keys(v), ['id', 'address', 'port', 'linkPort', 'zone', 'meta']);
    assert.deepEqual(Object.keys(v.meta!), ['a', 'b']);
  });
});
