/**
 * The one place the renderer calls the API. `call` unwraps the result envelope: a refusal becomes an
 * ApiCallError with the server's one-line message, which the UI shows as it is.
 */
import { t } from '../i18n.ts';
import type { CommandInput, CommandName, CommandOutput } from '../../main/api/contract.ts';
import { ApiCallError } from '../transport/apiCallError.ts';
import type { Transport } from '../transport/types.ts';

let current: Transport | null = null;

export function setTransport(transport: Transport | null): void {
  current = transport;
}

export function transport(): Transport {
  if (!current) throw new ApiCallError('INTERNAL', t('errors.notConnected'));
  return current;
}

export function hasTransport(): boolean {
  return current !== null;
}

export async function call<K extends CommandName>(
  command: K,
  ...input: CommandInput<K> extends undefined | Record<string, never> ? [CommandInput<K>?] : [CommandInput<K>]
): Promise<CommandOutput<K>> {
  const result = await transport().bridge.call(command, input[0] as CommandInput<K>);
  if (!result.ok) throw new ApiCallError(result.error.code, result.error.message);
  return result.value;
}
