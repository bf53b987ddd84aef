/**
 * What the UI sees of accounts, jobs and providers. Views are built field by field (never by
 * spreading a row), so a column added later cannot leak to the renderer by accident: the adapter
 * session (upload tokens, signed forms), the file fingerprint and secret values stay in main.
 */
import type { Account } from '../db/accountsRepository.ts';
import type { Job, JobEvent } from '../db/jobsRepository.ts';
import { jobActions } from '../core/jobState.ts';
import type { AccountView } from '../engine/accounts.ts';
import type { ProviderDescription } from '../providers/types.ts';
import type { AccountInfo, JobTimelineEntry, JobView, ProviderInfo } from './contract.ts';

export function providerInfo(adapter: ProviderDescription): ProviderInfo {
  return {
    id: adapter.id,
    name: adapter.displayName,
    fields: adapter.fields.map((field) => ({
      key: field.key,
      label: field.label,
      kind: field.kind,
      required: field.required,
      default: field.default ?? null,
      hint: field.hint ?? null,
      choices: field.choices ? [...field.choices] : null,
    })),
    capabilities: {
      sources: adapter.capabilities.sources,
      baseUrlRequired: adapter.capabilities.defaultBaseUrl === null,
      defaultBaseUrl: adapter.capabilities.defaultBaseUrl,
      resumeNote: adapter.capabilities.resumeNote ?? null,
      accepts: adapter.capabilities.accepts.map((accepted) => ({ type: accepted.type, maxBytes: accepted.maxBytes })),
    },
  };
}

export function accountInfo(view: AccountView, providerName: string): AccountInfo {
  const secrets: Record<string, 'set' | 'not set'> = {};
  for (const [key, set] of Object.entries(view.secretsSet)) secrets[key] = set ? 'set' : 'not set';
  return {
    id: view.id,
    name: view.name,
    provider: view.provider,
    providerName,
    baseUrl: view.baseUrl,
    settings: { ...view.settings },
    secrets,
    concurrency: view.concurrency,
    paused: view.paused,
    createdAt: view.createdAt,
  };
}

export function jobView(job: Job, account: Account | undefined, staged: boolean): JobView {
  return {
    id: job.id,
    accountId: job.accountId,
    accountName: account?.name ?? null,
    provider: account?.provider ?? null,
    sourceKind: job.sourceKind,
    source: job.source,
    name: job.name,
    mime: job.mime,
    size: job.size,
    state: job.state,
    actions: jobActions(job.state),
    position: job.position,
    bytesConfirmed: job.bytesConfirmed,
    attempts: job.attempts,
    nextAttemptAt: job.nextAttemptAt,
    error: job.error ? { kind: job.error.kind, message: job.error.message } : null,
    result: job.result
      ? { remoteId: job.result.remoteId, url: job.result.url, details: { ...job.result.details } }
      : null,
    options: { ...job.options },
    staged,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt,
  };
}

export function timelineEntry(event: JobEvent): JobTimelineEntry {
  return {
    id: event.id,
    at: event.at,
    type: event.type,
    state: event.state,
    attempt: event.attempt,
    errorKind: event.errorKind,
    message: event.message,
  };
}
