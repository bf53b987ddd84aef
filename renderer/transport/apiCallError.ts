import type { ApiErrorCode } from '../../main/api/contract.ts';

/** A command's refusal, thrown by `call()` so that UI code can `try/catch` one way. */
export class ApiCallError extends Error {
  readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiCallError';
    this.code = code;
  }
}
