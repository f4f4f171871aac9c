import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';

/**
 * JSON request bodies nest arrays and objects at most this deep. Lanes' own
 * bodies need fewer than ten levels; the bound keeps a hostile body (100,000
 * opening brackets fit in 100 KB) from reaching code that walks values
 * recursively (validation, serialisation, the database drivers) and
 * overflowing the stack.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** What one pass over a JSON text found. */
export interface JsonScan {
  /** Arrays and objects nest deeper than the limit (the scan stopped there). */
  tooDeep: boolean;
  /** A string holds a `\u0000` or a surrogate escape: text a database may not store as it is. */
  suspectText: boolean;
}

const isHexDigitOf = (c: number, digits: string): boolean => digits.includes(String.fromCharCode(c));

/**
 * One pass over a JSON text, no recursion and no allocation: how deep arrays
 * and objects nest (brackets inside strings, escaped quotes included, do not
 * count) and whether a string holds a NUL or surrogate escape. Malformed text
 * is left for the JSON parser to refuse.
 */
export const scanJson = (text: string, limit: number): JsonScan => {
  let depth = 0;
  let inString = false;
  let suspectText = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) {
        if (!suspectText && text.charCodeAt(i + 1) === 0x75 /* u */) {
          suspectText =
            text.startsWith('0000', i + 2) ||
            (isHexDigitOf(text.charCodeAt(i + 2), 'dD') && isHexDigitOf(text.charCodeAt(i + 3), '89abcdefABCDEF'));
        }
        i++;
      } else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return { tooDeep: true, suspectText };
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return { tooDeep: false, suspectText };
};

/** Whether a JSON text nests arrays and objects deeper than `limit`. */
export const jsonNestsDeeperThan = (text: string, limit: number): boolean => scanJson(text, limit).tooDeep;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text every store keeps as it is: U+0000 (which PostgreSQL's text cannot
 * hold) and lone surrogates (which no UTF-8 store can) become U+FFFD, as the
 * event log already stores NUL on both engines.
 */
export const storableString = (text: string): string =>
  text.replaceAll('\0', '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');

/** A parsed JSON value with every string and key made storable (its depth is bounded, so recursion is safe). */
export const withStorableText = (value: unknown): unknown => {
  if (typeof value === 'string') return storableString(value);
  if (Array.isArray(value)) return value.map(withStorableText);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableString(k), withStorableText(v)]));
  }
  return value;
};

/**
 * Replaces Fastify's `application/json` parser with one that first refuses
 * bodies nested deeper than `maxDepth` (400 `LANES_BODY_TOO_DEEP`), then hands
 * the text to Fastify's own parser, which keeps its prototype-poisoning
 * protection (`__proto__` and `constructor.prototype` keys are refused), and
 * makes NUL and lone surrogates in strings U+FFFD. Also refuses URLs that
 * carry a NUL (`%00`) in a path parameter or the query (400 `LANES_VALIDATION`).
 * Scopes that read raw bodies (webhooks, coverage, Slack) have their own parsers.
 */
export const registerInputLimits = (app: FastifyInstance, maxDepth: number = MAX_JSON_DEPTH): void => {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    const scan = scanJson(text, maxDepth);
    if (scan.tooDeep) {
      done(
        new AppError('LANES_BODY_TOO_DEEP', `the JSON body nests arrays and objects deeper than ${maxDepth} levels`, {
          maxDepth,
        }),
        undefined,
      );
      return;
    }
    if (!scan.suspectText) return parseJson(request, text, done);
    parseJson(request, text, (error, value) => (error ? done(error) : done(null, withStorableText(value))));
  });
  app.addHook('onRequest', async (request) => {
    if (/%00/.test(request.url)) {
      throw new AppError('LANES_VALIDATION', 'the URL holds a NUL character (%00), which no Lanes value contains');
    }
  });
};
