import { call } from './api.ts';
import { withJobs } from './slices.ts';
import { ferryStore } from './store.ts';
import { toastError } from './toasts.ts';

/** Opens the details panel of a job and reads its timeline. */
export async function openDetails(id: number): Promise<void> {
  ferryStore.setState((s) => ({ detailsId: id, detail: s.detail?.job.id === id ? s.detail : null }));
  await refreshDetails();
}

export function closeDetails(): void {
  ferryStore.setState({ detailsId: null, detail: null });
}

export async function refreshDetails(): Promise<void> {
  const id = ferryStore.getState().detailsId;
  if (id === null) return;
  try {
    const detail = await call('jobs.get', { id });
    ferryStore.setState((s) => (s.detailsId === id ? { detail, jobs: withJobs(s.jobs, [detail.job]) } : {}));
  } catch (error) {
    if (ferryStore.getState().detailsId === id) {
      closeDetails();
      toastError(error);
    }
  }
}

let detailsTimer: ReturnType<typeof setTimeout> | undefined;

export function scheduleDetailsRefresh(): void {
  if (detailsTimer !== undefined) return;
  detailsTimer = setTimeout(() => {
    detailsTimer = undefined;
    void refreshDetails();
  }, 250);
}
