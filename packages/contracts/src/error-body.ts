import type { ErrorBody } from './http.js';

/** One schema-validation failure as Fastify reports it (ajv and TypeBox shapes both). */
export interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Names the field a validation failure is about and says what is wrong, without the value:
 * `options.temperature must be <= 2`, `prompt is required`, `patientName is not a known field`.
 * Body and query fields are named bare; params and headers keep their prefix.
 */
export function validationProblem(
  issue: ValidationIssue | undefined,
  context: string | undefined,
): { field: string; message: string } {
  const params = issue?.params ?? {};
  const named = (params.requiredProperties ??
    params.missingProperty ??
    params.additionalProperties ??
    params.additionalProperty) as string | string[] | undefined;
  const extra = Array.isArray(named) ? named[0] : named;
  const prefix = context === 'body' || context === 'querystring' ? '' : context;
  const field =
    [prefix, ...(issue?.instancePath ?? '').split('/'), extra].filter(Boolean).join('.') ||
    (context === 'querystring' ? 'query' : context || 'body');
  const unknownField =
    issue?.keyword === 'additionalProperties' ||
    (issue?.keyword === 'boolean' && /schema is false/.test(issue.message ?? ''));
  const problem = unknownField
    ? 'is not a known field'
    : issue?.keyword === 'required'
      ? 'is required'
      : (issue?.message ?? 'is invalid');
  return { field, message: `${field} ${problem}` };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  499: 'Client Closed Request',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The HTTP reason phrase Ward's error bodies carry in `error`. */
export function httpStatusText(status: number): string {
  return STATUS_TEXT[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request');
}

/**
 * Ward's error body for a mapped error. A 5xx whose code is not one of Ward's own becomes
 * `WARD_INTERNAL` with no detail (`hidden: true`, so the caller logs the original), and a 4xx
 * with a foreign code gets a generic Ward code.
 */
export function wardErrorBody(
  e: { status: number; code: string; message: string; field?: string | undefined },
  requestId: string,
): { body: ErrorBody; hidden: boolean } {
  let { code, message } = e;
  const hidden = e.status >= 500 && !code.startsWith('WARD_');
  if (hidden) {
    code = 'WARD_INTERNAL';
    message = 'internal error';
  } else if (!code.startsWith('WARD_')) {
    code = e.status === 404 ? 'WARD_NOT_FOUND' : 'WARD_BAD_REQUEST';
  }
  return {
    body: {
      statusCode: e.status,
      code,
      error: httpStatusText(e.status),
      message,
      ...(e.field && { field: e.field }),
      requestId,
    },
    hidden,
  };
}

/** The body of a 404 for a route that does not exist (the path without its query string). */
export function routeNotFoundBody(method: string, url: string, requestId: string): ErrorBody {
  const path = url.split('?')[0];
  return wardErrorBody(
    { status: 404, code: 'WARD_NOT_FOUND', message: `no route ${method} ${path}` },
    requestId,
  ).body;
}
