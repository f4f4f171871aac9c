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
  /** A string holds a `\u0000` escape. */
  nul: boolean;
}

/**
 * One pass over a JSON text, no recursion and no allocation: how deep arrays
 * and objects nest (brackets inside strings, escaped quotes included, do not
 * count) and whether a string holds a NUL escape. Malformed text is left for
 * the JSON parser to refuse.
 */
export const scanJson = (text: string, limit: number): JsonScan => {
  let depth = 0;
  let inString = false;
  let nul = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) {
        if (!nul && text.startsWith('u0000', i + 1)) nul = true;
        i++;
      } else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return { tooDeep: true, nul };
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return { tooDeep: false, nul };
};

/** Whether a JSON text nests arrays and objects deeper than `limit`. */
export const jsonNestsDeeperThan = (text: string, limit: number): boolean => scanJson(text, limit).tooDeep;

/**
 * The JSON text with every `\u0000` escape inside strings written as
 * `\uFFFD`: PostgreSQL's text cannot hold U+0000, and the event log already
 * stores it as U+FFFD on both engines; an escaped backslash followed by
 * `u0000` is text and stays.
 */
export const replaceNulEscapes = (text: string): string => {
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!inString) {
      if (c === QUOTE) inString = true;
    } else if (c === QUOTE) inString = false;
    else if (c === BACKSLASH) {
      if (text.startsWith('u0000', i + 1)) {
        out += `${text.slice(from, i)}\\uFFFD`;
        from = i + 6;
      }
      i++;
    }
  }
  return out + text.slice(from);
};

/**
 * Replaces Fastify's `application/json` parser with one that first refuses
 * bodies nested deeper than `maxDepth` (400 `LANES_BODY_TOO_DEEP`) and turns
 * NUL escapes into U+FFFD, then hands the text to Fastify's own parser, which
 * keeps its prototype-poisoning protection (`__proto__` and
 * `constructor.prototype` keys are refused). Also refuses URLs that carry a
 * NUL (`%00`) in a path parameter or the query (400 `LANES_VALIDATION`).
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
    parseJson(request, scan.nul ? replaceNulEscapes(text) : text, done);
  });
  app.addHook('onRequest', async (request) => {
    if (/%00/.test(request.url)) {
      throw new AppError('LANES_VALIDATION', 'the URL holds a NUL character (%00), which no Lanes value contains');
    }
  });
};
