/**
 * The last line of defence of a process that runs uploads (the `ferry` command, `ferry serve`, the
 * desktop main process). A promise that nothing handled is logged and the process carries on: the
 * queue's state is in SQLite and each failing piece of work already puts its job aside or retries it,
 * so dying would only stop every other upload. An exception that escaped to the event loop leaves the
 * program in an unknown state, so it is logged and the process exits (everything acknowledged is
 * recorded and resumes at the next start), except for faults of the machine (disk full, database
 * locked), which the engine retries and which are not bugs of Ferry.
 */
import { machineFaultOf } from './machineFault.ts';

export type LastResortLog = (message: string, error?: unknown) => void;

/** Exit code of a process stopped by an unexpected error (EX_SOFTWARE). */
export const UNEXPECTED_ERROR_EXIT = 70;

/** Installs the handlers; returns a function that removes them. */
export function installLastResort(
  log: LastResortLog,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  const onRejection = (reason: unknown): void => {
    const fault = machineFaultOf(reason, null);
    log(
      fault
        ? `${fault.message} (Ferry keeps running)`
        : 'A background task failed and nothing handled it; Ferry keeps running',
      reason,
    );
  };
  const onException = (error: unknown): void => {
    const fault = machineFaultOf(error, null);
    if (fault) {
      log(`${fault.message} (Ferry keeps running)`, error);
      return;
    }
    log(
      'Ferry hit an unexpected error and stops; every acknowledged part is recorded and resumes at the next start',
      error,
    );
    exit(UNEXPECTED_ERROR_EXIT);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
