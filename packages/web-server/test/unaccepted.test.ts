import { describe, expect, it } from 'vitest';
import { UnacceptedFrames, acceptedRef, messageId } from '../src/upstream/unaccepted.ts';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('messageId (browser message frames read without JSON.parse)', () => {
  it('reads the id of the browser client shape', () => {
    expect(messageId(b('{"type":"message","id":"c-1","data":{"text":"hi"}}'))).toBe('c-1');
    expect(messageId(b('{"type":"message","id":"ünï-ç","agent":"x","data":1}'))).toBe('ünï-ç');
  });

  it('leaves every other shape to the parsing path (undefined)', () => {
    // escapes in the id
    expect(messageId(b('{"type":"message","id":"a\\"b","data":1}'))).toBeUndefined();
    // a second "id" key: JSON.parse keeps the last one
    expect(messageId(b('{"type":"message","id":"a","data":1,"id":"b"}'))).toBeUndefined();
    // "id" text inside data is also sent the long way (it cannot be told apart without parsing)
    expect(messageId(b('{"type":"message","id":"a","data":{"id":"z"}}'))).toBeUndefined();
    expect(messageId(b('{"id":"a","type":"message","data":1}'))).toBeUndefined();
    expect(messageId(b('{"type":"cancel","id":"a","runId":"r"}'))).toBeUndefined();
    expect(messageId(b('{"type":"message","data":1}'))).toBeUndefined();
    expect(messageId(b('{"type":"message","id":"a","data":1'))).toBeUndefined();
  });
});

describe('acceptedRef (the broker accepted frame read without JSON.parse)', () => {
  it('reads plain and escaped refs exactly as JSON.parse would', () => {
    for (const ref of ['c-1', 'ünï', 'a"b', 'back\\slash', 'tab\there', '']) {
      const frame = b(`{"type":"accepted","ref":${JSON.stringify(ref)}}`);
      expect(acceptedRef(frame)).toBe(ref);
    }
  });

  it('refuses what is not that shape', () => {
    expect(acceptedRef(b('{"type":"accepted","ref":12}'))).toBeUndefined();
    expect(acceptedRef(b('{"type":"accepted","ref":"a","x":"b"}'))).toBeUndefined();
  });
});

describe('UnacceptedFrames', () => {
  it('keeps what was sent until accepted or refused, whatever path reads the ids', () => {
    const u = new UnacceptedFrames(10);
    const fast = b('{"type":"message","id":"c-1","data":1}');
    const slow = b('{"data":2,"id":"c-2","type":"message"}');
    const escaped = b('{"type":"message","id":"c\\"3","data":3}');
    const cancel = b('{"type":"cancel","id":"c-4","runId":"r"}');
    for (const f of [fast, slow, escaped, cancel]) u.sent(f);
    u.sent(b('{"type":"ack","seq":3}'));
    u.sent(b('not json "id"'));
    expect(u.size).toBe(4);
    u.answered(b('{"type":"accepted","ref":"c-1"}'));
    u.answered(b(`{"type":"accepted","ref":${JSON.stringify('c"3')}}`));
    u.answered(b('{"type":"message","seq":1,"id":"x","from":"default","data":1,"ts":"t"}'));
    expect(u.size).toBe(2);
    u.answered(b('{"type":"error","code":"rate_limited","message":"slow down","ref":"c-4"}'));
    expect(u.takeAll()).toEqual([slow]);
    expect(u.size).toBe(0);
  });

  it('a resent id moves to the end; beyond the limit the oldest is dropped', () => {
    const u = new UnacceptedFrames(2);
    const f = (id: string) => b(`{"type":"message","id":"${id}","data":0}`);
    u.sent(f('a'));
    u.sent(f('b'));
    u.sent(f('a'));
    u.sent(f('c'));
    expect(u.takeAll().map((x) => JSON.parse(x.toString()).id)).toEqual(['a', 'c']);
  });

  it('carried: accepteds riding on a frame (accepted=inline) are answered; the frame\'s own end is returned', () => {
    const u = new UnacceptedFrames(10);
    for (const id of ['c-1', 'c"2', 'c-3', 'x']) u.sent(b(`{"type":"message","id":${JSON.stringify(id)},"data":1}`));
    const own = '{"type":"message","seq":1,"id":"m","from":"default","data":{"a":1,"accepted":["x"]},"ts":"t"}';
    expect(u.carried(b(own))).toBe(own.length); // an "accepted" inside data is not one
    expect(u.size).toBe(4);
    const carrier = `${own.slice(0, -1)},"accepted":["c-1",${JSON.stringify('c"2')}]}`;
    expect(u.carried(b(carrier))).toBe(own.length - 1);
    expect(u.size).toBe(2);
    const welcome = '{"type":"welcome","agents":["default"]}';
    expect(u.carried(b(welcome))).toBe(welcome.length);
    const broken = '{"type":"system","event":"e","accepted":["c-3",]}';
    expect(u.carried(b(broken))).toBe(broken.length); // not JSON: nothing
    expect(u.takeAll().map((x) => JSON.parse(x.toString()).id)).toEqual(['c-3', 'x']);
  });

  it('carried: plain refs are read from the end (several, non-ASCII); other spellings take the parsing path', () => {
    const u = new UnacceptedFrames(10);
    const ids = ['c-1', 'c-2', 'ü-3', 'c-4', 'c-5'];
    for (const id of ids) u.sent(b(`{"type":"message","id":${JSON.stringify(id)},"data":1}`));
    const own = '{"type":"message","seq":2,"id":"m","from":"default","data":"[\\"],\\"","ts":"t"}';
    const three = `${own.slice(0, -1)},"accepted":["c-1","c-2","ü-3"]}`;
    expect(u.carried(b(three))).toBe(own.length - 1);
    expect(u.size).toBe(2);
    // Whitespace between the refs: not how the broker writes them, still answered (JSON.parse).
    const spaced = `${own.slice(0, -1)},"accepted":["c-4", "c-5"]}`;
    expect(u.carried(b(spaced))).toBe(own.length - 1);
    expect(u.size).toBe(0);
    // A list not preceded by the member's name answers nothing.
    u.sent(b('{"type":"message","id":"c-6","data":1}'));
    const other = '{"type":"message","seq":3,"x":["c-6"]}';
    expect(u.carried(b(other))).toBe(other.length);
    expect(u.size).toBe(1);
  });

  it('tracks nothing with a limit of 0', () => {
    const u = new UnacceptedFrames(0);
    u.sent(b('{"type":"message","id":"c-1","data":1}'));
    expect(u.size).toBe(0);
  });
});
