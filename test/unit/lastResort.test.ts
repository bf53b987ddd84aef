/**
 * The last-resort handlers, in a real child process (the behaviour under test is what Node does with
 * an unhandled rejection or exception, which a test runner's own handlers would hide in-process).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { machineFaultOf } from '../../main/engine/machineFault.ts';
import { REPO_ROOT } from '../support/ferryHarness.ts';

function runChild(body: string): { status: number | null; stdout: string; stderr: string } {
  const script = `
    import { installLastResort } from ${JSON.stringify(join(REPO_ROOT, 'main/engine/lastResort.ts'))};
    installLastResort((message, error) => process.stderr.write('ferry: ' + message + ' [' + (error?.message ?? error?.errstr ?? String(error)) + ']\\n'));
    ${body}
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('installLastResort', () => {
  it('logs a rejection that nothing handled and keeps the process running', () => {
    const result = runChild(`
      Promise.reject(new Error('lost track of a write'));
      setTimeout(() => { process.stdout.write('still running\\n'); }, 100);
    `);
    expect(result.stderr).toContain(
      'ferry: A background task failed and nothing handled it; Ferry keeps running [lost track of a write]',
    );
    expect(result.stdout).toBe('still running\n');
    expect(result.status).toBe(0);
  });

  it('keeps running through a disk-full error that escaped, and says so', () => {
    const result = runChild(`
      setTimeout(() => { throw Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 }); }, 10);
      setTimeout(() => { process.stdout.write('still running\\n'); }, 150);
    `);
    expect(result.stderr).toMatch(/ferry: Disk full: .*\(Ferry keeps running\)/);
    expect(result.stdout).toBe('still running\n');
    expect(result.status).toBe(0);
  });

  it('stops with exit code 70 on any other exception that escaped, saying that nothing acknowledged is lost', () => {
    const result = runChild(`
      setTimeout(() => { throw new TypeError('a bug'); }, 10);
      setTimeout(() => { process.stdout.write('should not run\\n'); }, 300);
    `);
    expect(result.stderr).toContain(
      'ferry: Ferry hit an unexpected error and stops; every acknowledged part is recorded and resumes at the next start [a bug]',
    );
    expect(result.stdout).toBe('');
    expect(result.status).toBe(70);
  });
});

describe('machineFaultOf', () => {
  it('tells disk full, disk errors and a locked database apart, through causes, and nothing else', () => {
    const full = Object.assign(new Error('database or disk is full'), { errcode: 13 });
    expect(machineFaultOf(new Error('recording failed', { cause: full }), null)?.kind).toBe('disk-full');
    expect(machineFaultOf(Object.assign(new Error('no space'), { code: 'ENOSPC' }), null)?.kind).toBe('disk-full');
    expect(machineFaultOf(Object.assign(new Error('disk I/O error'), { errcode: 10 | (3 << 8) }), null)?.kind).toBe(
      'disk-error',
    );
    expect(machineFaultOf(Object.assign(new Error('database is locked'), { errcode: 5 }), '/data')?.message).toMatch(
      /locked by another process.*\/data|\/data.*locked by another process/,
    );
    expect(machineFaultOf(new Error('Offsets do not match'), null)).toBeNull();
    expect(machineFaultOf(Object.assign(new Error('constraint'), { errcode: 19 }), null)).toBeNull();
  });
});
