/** Assertion helpers shared by the adapter tests: the UploadError a call or a promise fails with. */
import { expect } from 'vitest';
import { UploadError } from '../../main/core/errors.ts';

export async function rejection(promise: Promise<unknown>): Promise<UploadError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UploadError);
    return error as UploadError;
  }
  throw new Error('expected a rejection');
}

export function thrown(action: () => void): UploadError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(UploadError);
    return error as UploadError;
  }
  throw new Error('expected an UploadError');
}
