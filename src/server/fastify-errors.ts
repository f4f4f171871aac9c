import type { FastifyError } from 'fastify';
import { AppError } from '../domain/errors.js';
import { ITEM_KEY_MAX } from '../domain/event.js';

/**
 * The longest path parameter the router matches (Fastify's `maxParamLength`,
 * 100 by default), after percent-decoding. Every route's own params schema is
 * at most this long, so a parameter a schema accepts is always routed: item
 * keys (`ITEM_KEY_MAX`), e-mail addresses (320), escalation ids. Longer ones
 * are refused with 400 `LANES_VALIDATION`.
 */
export const PATH_PARAM_MAX = Math.max(ITEM_KEY_MAX, 320);

const malformed = (message: string) => new AppError('LANES_BODY_MALFORMED', message);

/**
 * Maps Fastify's own errors (routing, body reading and parsing, limits) onto
 * our stable codes, so that every error has the documented
 * `{ error: { code, message, details } }` shape and a 4xx status. Returns
 * undefined for anything that is not a client error.
 */
export const fromFastifyError = (error: FastifyError): AppError | undefined => {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('LANES_BODY_TOO_LARGE', 'the request body is larger than this server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
    case 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE':
      return new AppError('LANES_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return malformed('the request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return malformed('the request body is not as long as its Content-Length header says');
    case 'FST_ERR_ROUTE_MISSING_CONTENT':
      return malformed('this request needs a body');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_INVALID_URL':
      return new AppError('LANES_VALIDATION', 'the URL is not valid (check its percent-encoding)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('LANES_VALIDATION', `a path parameter is longer than ${PATH_PARAM_MAX} characters`, {
        maxLength: PATH_PARAM_MAX,
      });
    case 'FST_ERR_NOT_FOUND':
      return new AppError('LANES_NOT_FOUND', 'no such route');
    default:
      return fromStatus(error);
  }
};

/**
 * Fastify's other client errors (by status), and JSON syntax errors. Errors of
 * other origins keep their 500 even when they carry a status (an upstream
 * answer's, for example).
 */
const fromStatus = (error: FastifyError): AppError | undefined => {
  const status = error.statusCode;
  if (error instanceof SyntaxError || (status === 400 && /JSON/i.test(error.message))) {
    return malformed('the request body is not valid JSON');
  }
  if (!error.code?.startsWith('FST_') || status === undefined || status < 400 || status >= 500) return undefined;
  if (status === 404) return new AppError('LANES_NOT_FOUND', 'no such route');
  if (status === 413)
    return new AppError('LANES_BODY_TOO_LARGE', 'the request body is larger than this server accepts');
  if (status === 415) return new AppError('LANES_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  return malformed('the request could not be read');
};
