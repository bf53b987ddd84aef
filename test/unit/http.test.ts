import type { Response } from 'got';
import { describe, expect, it } from 'vitest';
import { ERROR_KINDS } from '../../main/core/errors.ts';
import type { ErrorKind } from '../../main/core/errors.ts';
import { bodyExcerpt, kindForStatus, retryAfterMs, statusError, tryJson } from '../../main/providers/http.ts';

const NOW = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
const NOW_SECONDS = NOW / 1000;

type Headers = Record<string, string | string[] | undefined>;

describe('retryAfterMs', () => {
  it.each<{ name: string; headers: Headers; expected: number | undefined }>([
    { name: 'Retry-After in seconds', headers: { 'retry-after': '120' }, expected: 120_000 },
    { name: 'Retry-After of zero seconds', headers: { 'retry-after': '0' }, expected: 0 },
    { name: 'Retry-After in fractional seconds', headers: { 'retry-after': '1.5' }, expected: 1_500 },
    { name: 'a negative Retry-After', headers: { 'retry-after': '-5' }, expected: 0 },
    {
      name: 'Retry-After as an HTTP date',
      headers: { 'retry-after': 'Wed, 21 Oct 2015 07:29:30 GMT' },
      expected: 90_000,
    },
    {
      name: 'Retry-After as an HTTP date in the past',
      headers: { 'retry-after': 'Wed, 21 Oct 2015 07:00:00 GMT' },
      expected: 0,
    },
    { name: 'a repeated Retry-After (the first counts)', headers: { 'retry-after': ['30', '60'] }, expected: 30_000 },
    { name: 'X-RateLimit-Reset as seconds from now', headers: { 'x-ratelimit-reset': '45' }, expected: 45_000 },
    {
      name: 'X-RateLimit-Reset as epoch seconds',
      headers: { 'x-ratelimit-reset': String(NOW_SECONDS + 60) },
      expected: 60_000,
    },
    {
      name: 'X-RateLimit-Reset as epoch milliseconds',
      headers: { 'x-ratelimit-reset': String(NOW + 2_500) },
      expected: 2_500,
    },
    {
      name: 'X-RateLimit-Reset as epoch seconds in the past',
      headers: { 'x-ratelimit-reset': String(NOW_SECONDS - 60) },
      expected: 0,
    },
    {
      name: 'both headers (Retry-After wins)',
      headers: { 'retry-after': '5', 'x-ratelimit-reset': '500' },
      expected: 5_000,
    },
    {
      name: 'an unreadable Retry-After next to X-RateLimit-Reset',
      headers: { 'retry-after': 'soon', 'x-ratelimit-reset': '10' },
      expected: 10_000,
    },
    { name: 'no header at all', headers: {}, expected: undefined },
    {
      name: 'unrelated headers',
      headers: { 'content-type': 'text/html', date: 'Wed, 21 Oct 2015 07:28:00 GMT' },
      expected: undefined,
    },
    { name: 'an unreadable Retry-After alone', headers: { 'retry-after': 'later, maybe' }, expected: undefined },
    { name: 'an unreadable X-RateLimit-Reset', headers: { 'x-ratelimit-reset': 'tomorrow' }, expected: undefined },
    { name: 'a header present but undefined', headers: { 'retry-after': undefined }, expected: undefined },
    // A blank header says nothing; reading it as "0 seconds" would make a 429 retry at once.
    { name: 'a blank Retry-After', headers: { 'retry-after': '' }, expected: undefined },
    { name: 'a Retry-After of only spaces', headers: { 'retry-after': '  ' }, expected: undefined },
    { name: 'a blank X-RateLimit-Reset', headers: { 'x-ratelimit-reset': '' }, expected: undefined },
  ])('reads $name → $expected', ({ headers, expected }) => {
    expect(retryAfterMs(headers, NOW)).toBe(expected);
  });

  it('measures an HTTP date from the current time by default', () => {
    const inOneHour = new Date(Date.now() + 3_600_000).toUTCString();
    const delay = retryAfterMs({ 'retry-after': inOneHour });
    // toUTCString drops milliseconds, so the delay is up to a second short of an hour.
    expect(delay).toBeGreaterThan(3_590_000);
    expect(delay).toBeLessThanOrEqual(3_600_000);
  });
});

describe('kindForStatus', () => {
  const TABLE: Array<[number, ErrorKind]> = [
    [200, 'invalid'],
    [301, 'invalid'],
    [400, 'invalid'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'session-gone'],
    [405, 'invalid'],
    [408, 'timeout'],
    [409, 'conflict'],
    [410, 'session-gone'],
    [413, 'too-large'],
    [415, 'unsupported'],
    [422, 'invalid'],
    [429, 'rate-limited'],
    [500, 'server'],
    [502, 'server'],
    [503, 'server'],
    [504, 'server'],
    [599, 'server'],
  ];

  it.each(TABLE)('maps %i to %s', (status, kind) => {
    expect(kindForStatus(status)).toBe(kind);
  });

  it('only ever answers with a known error kind', () => {
    for (let status = 100; status < 600; status += 1) {
      expect(ERROR_KINDS).toContain(kindForStatus(status));
    }
  });
});

describe('bodyExcerpt', () => {
  it.each([
    { name: 'undefined', body: undefined, expected: '' },
    { name: 'an empty body', body: '', expected: '' },
    { name: 'plain text', body: 'Upload session not found', expected: 'Upload session not found' },
    {
      name: 'an HTML error page',
      body: '<html>\n<head><title>502</title></head>\n<body><h1>Bad Gateway</h1>\n<hr><center>nginx</center></body></html>',
      expected: '502 Bad Gateway nginx',
    },
    { name: 'runs of whitespace', body: '  too \n\n many\t\tspaces  ', expected: 'too many spaces' },
    { name: 'a body of only tags', body: '<br/><hr>', expected: '' },
  ])('turns $name into "$expected"', ({ body, expected }) => {
    expect(bodyExcerpt(body)).toBe(expected);
  });

  it('keeps a 160-character text whole', () => {
    const text = 'x'.repeat(160);
    expect(bodyExcerpt(text)).toBe(text);
  });

  it('cuts a longer text to 160 characters ending in an ellipsis', () => {
    const text = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    const excerpt = bodyExcerpt(text);
    expect(excerpt).toHaveLength(160);
    expect(excerpt.endsWith('...')).toBe(true);
    expect(excerpt.slice(0, 157)).toBe(text.slice(0, 157));
  });

  it('counts length after stripping the HTML, not before', () => {
    const body = `<div class="${'a'.repeat(500)}">short message</div>`;
    expect(bodyExcerpt(body)).toBe('short message');
  });
});

describe('tryJson', () => {
  it.each([
    { name: 'an object', body: '{"id":12,"ok":true}', expected: { id: 12, ok: true } },
    { name: 'an array', body: '[1,2,3]', expected: [1, 2, 3] },
    { name: 'null', body: 'null', expected: null },
    { name: 'a number', body: '42', expected: 42 },
  ])('parses $name', ({ body, expected }) => {
    expect(tryJson(body)).toEqual(expected);
  });

  it.each([
    { name: 'undefined', body: undefined },
    { name: 'an empty body', body: '' },
    { name: 'truncated JSON', body: '{"id":12,"ok":' },
    { name: 'an HTML page', body: '<html><body>Bad Gateway</body></html>' },
    { name: 'single-quoted JSON', body: "{'id': 12}" },
    { name: 'a trailing comma', body: '[1,2,]' },
  ])('returns undefined for $name instead of throwing', ({ body }) => {
    expect(() => tryJson(body)).not.toThrow();
    expect(tryJson(body)).toBeUndefined();
  });
});

describe('statusError', () => {
  function reply(statusCode: number, body: string, headers: Headers = {}): Response<string> {
    return { statusCode, body, headers } as unknown as Response<string>;
  }

  it('says what was being done, the status, the body and the advice for its kind', () => {
    const error = statusError(
      reply(503, '<h1>Service Unavailable</h1>', { 'retry-after': '7' }),
      'Sending part 3 of a.mp4',
    );
    expect(error.kind).toBe('server');
    expect(error.status).toBe(503);
    expect(error.retryAfterMs).toBe(7_000);
    expect(error.message).toBe('Sending part 3 of a.mp4: 503 Service Unavailable; will retry');
  });

  it('prefers the provider detail and an explicit kind over the status mapping', () => {
    const error = statusError(reply(400, 'ignored body'), 'Finishing a.mp4', 'checksum mismatch', 'conflict');
    expect(error.kind).toBe('conflict');
    expect(error.message).toBe('Finishing a.mp4: 400 checksum mismatch');
    expect(error.retryAfterMs).toBeUndefined();
  });
});
