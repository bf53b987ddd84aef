/**
 * How the `ferry` command reaches the API: the same command table as the window and `ferry serve`
 * (main/api/commands.ts), called in-process. A refusal becomes an ApiError, which `main.ts` prints as
 * one line and turns into its exit code (main/api/apiError.ts).
 */
import type { CommandInput, CommandName, CommandOutput } from '../api/contract.ts';
import type { FerryApi } from '../api/ferryApi.ts';

/** Runs one API command and returns its answer, or throws the API's error. */
export type ApiCall = <K extends CommandName>(command: K, input: CommandInput<K>) => Promise<CommandOutput<K>>;

export function apiCaller(api: () => FerryApi | Promise<FerryApi>): ApiCall {
  return async (command, input) => {
    const result = await (await api()).invoke(command, input);
    if (!result.ok) {
      // Loaded with the API, not at the command's start-up (it loads zod).
      const { ApiError } = await import('../api/apiError.ts');
      throw new ApiError(result.error.code, result.error.message);
    }
    return result.value;
  };
}
