import { describe, expect, it } from 'vitest';
import { httpStatusText, validationProblem, wardErrorBody } from '../src/index.js';

describe('validationProblem', () => {
  it('names nested, missing and unknown fields in both ajv and TypeBox shapes', () => {
    expect(
      validationProblem(
        { keyword: 'maximum', instancePath: '/options/temperature', message: 'must be <= 2' },
        'body',
      ),
    ).toEqual({
      field: 'options.temperature',
      message: 'options.temperature must be <= 2',
    });
    expect(
      validationProblem(
        { keyword: 'required', instancePath: '', params: { requiredProperties: ['prompt'] } },
        'body',
      ).message,
    ).toBe('prompt is required');
    expect(
      validationProblem({ keyword: 'required', params: { missingProperty: 'modelName' } }, 'body').field,
    ).toBe('modelName');
    expect(
      validationProblem(
        { keyword: 'boolean', instancePath: '/patientName', message: 'schema is false' },
        'body',
      ).message,
    ).toBe('patientName is not a known field');
    expect(
      validationProblem(
        { keyword: 'additionalProperties', params: { additionalProperty: 'sort' } },
        'querystring',
      ).message,
    ).toBe('sort is not a known field');
    expect(
      validationProblem(
        { keyword: 'minLength', instancePath: '/id', message: 'must NOT have fewer than 1 characters' },
        'params',
      ).field,
    ).toBe('params.id');
    expect(validationProblem(undefined, 'querystring').field).toBe('query');
  });
});

describe('wardErrorBody', () => {
  it('hides foreign 5xx details and keeps Ward codes and fields', () => {
    const hidden = wardErrorBody(
      { status: 500, code: 'ECONNRESET', message: 'socket hang up at 10.0.0.3' },
      'r1',
    );
    expect(hidden).toEqual({
      hidden: true,
      body: {
        statusCode: 500,
        code: 'WARD_INTERNAL',
        error: 'Internal Server Error',
        message: 'internal error',
        requestId: 'r1',
      },
    });
    const ours = wardErrorBody(
      { status: 400, code: 'WARD_VALIDATION', message: 'prompt is required', field: 'prompt' },
      'r2',
    );
    expect(ours).toEqual({
      hidden: false,
      body: {
        statusCode: 400,
        code: 'WARD_VALIDATION',
        error: 'Bad Request',
        message: 'prompt is required',
        field: 'prompt',
        requestId: 'r2',
      },
    });
    expect(wardErrorBody({ status: 404, code: 'FST_ERR_NOT_FOUND', message: 'x' }, 'r3').body.code).toBe(
      'WARD_NOT_FOUND',
    );
    expect(wardErrorBody({ status: 400, code: 'FST_OTHER', message: 'x' }, 'r3').body.code).toBe(
      'WARD_BAD_REQUEST',
    );
    expect(httpStatusText(429)).toBe('Too Many Requests');
    expect(httpStatusText(507)).toBe('Internal Server Error');
  });
});
