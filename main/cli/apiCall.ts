/**
 * How the `ferry` command reaches the API: the same command table as the window and `ferry serve`
 * (main/api/commands.ts), called in-process. A refusal becomes an ApiError, which `main.ts` prints as
 * one line and turns into its exit code (main/api/apiError.ts).
 */
import { ApiError } from '../api/apiError.ts';
import type { CommandInput, CommandName, CommandOutput } from '../api/contract.ts';
import type { FerryApi } from '../api/ferryApi.ts';

/** Runs one API command and returns its answer, or throws the API's error. */
export type ApiCall = <K extends CommandName>(command: K, input: CommandInput<K>) => Promise<CommandOutput<K>>;

export function apiCaller(api: () => FerryApi): ApiCall {
  return async (command, input) => {
    const result = await api().invoke(command, input);
    if (!result.ok) throw new ApiError(result.error.code, result.error.message);
    return result.value;
  };
}
