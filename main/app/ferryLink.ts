/**
 * `ferry://` links, e.g. from a browser extension or a web page ("Send this video to Ferry"):
 *
 * - `ferry://open` brings the window up;
 * - `ferry://enqueue?url=https://…[&account=NAME]` queues that URL for an account whose provider
 *   fetches files itself (a pull provider), the named one or else the last used; the window comes up
 *   with a notice saying what was queued, so the person sees it (and can cancel it).
 *
 * A link never uploads a local file: any web page can open a ferry:// link, and a page must not be
 * able to make Ferry send `~/.ssh/id_rsa` or a document somewhere. A local path or `file://` URL in a
 * link is refused outright, with a notice that says to drop the file on the window instead, and
 * nothing is queued. Anything else malformed is refused with a notice too.
 */
import type { ApiResult, JobView } from '../api/contract.ts';

export type FerryLink =
  { kind: 'open' } | { kind: 'enqueue'; url: string; account: string | null } | { kind: 'refused'; reason: string };

const LOCAL_REFUSAL =
  'A ferry:// link asked Ferry to upload a file from this computer: links may only queue web addresses. To upload the file, drop it on the window';

/** Reads a ferry:// link; never throws. */
export function parseFerryLink(link: string): FerryLink {
  let parsed: URL;
  try {
    parsed = new URL(link);
  } catch {
    return { kind: 'refused', reason: 'Ferry was given a ferry:// link it cannot read' };
  }
  if (parsed.protocol !== 'ferry:') return { kind: 'refused', reason: 'Ferry was given a link that is not ferry://' };
  // `ferry://open` has the action as its host; `ferry:open` as its path.
  const action = (parsed.host || parsed.pathname).replace(/^\/+|\/+$/g, '').toLowerCase();
  if (action === 'open' || action === '') return { kind: 'open' };
  if (action !== 'enqueue')
    return { kind: 'refused', reason: `Ferry does not know the link action "${action.slice(0, 40)}"` };
  const target = parsed.searchParams.get('url')?.trim() ?? '';
  if (target === '') return { kind: 'refused', reason: 'The ferry://enqueue link names no url to queue' };
  let url: URL | null;
  try {
    url = new URL(target);
  } catch {
    url = null;
  }
  // No scheme at all (`/home/me/x.png`, `C:\x.png`, `~/x`), a Windows drive read as a scheme (`c:`), or file:.
  if (url === null || url.protocol === 'file:' || /^[a-z]:$/i.test(url.protocol)) {
    return { kind: 'refused', reason: LOCAL_REFUSAL };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { kind: 'refused', reason: `A ferry:// link may only queue http(s) addresses, not ${url.protocol}` };
  }
  const account = parsed.searchParams.get('account')?.trim() || null;
  return { kind: 'enqueue', url: url.href, account };
}

export interface FerryLinkDeps {
  showWindow: () => void;
  notice: (level: 'info' | 'warning' | 'error', message: string) => void;
  /** The account links go to without `account=` (the last used), or null. */
  targetAccount: () => string | null;
  /** The provider kind of an account, or null when there is no such account. */
  sourcesOf: (account: string) => 'file' | 'url' | null;
  enqueue: (account: string, paths: string[]) => Promise<ApiResult<JobView[]>>;
}

/** Carries out a ferry:// link; always brings the window up, so the person sees what happened. */
export async function handleFerryLink(link: string, deps: FerryLinkDeps): Promise<FerryLink> {
  const parsed = parseFerryLink(link);
  deps.showWindow();
  if (parsed.kind === 'refused') {
    deps.notice('warning', parsed.reason);
    return parsed;
  }
  if (parsed.kind === 'open') return parsed;
  const account = parsed.account ?? deps.targetAccount();
  if (account === null) {
    deps.notice(
      'info',
      `A ferry:// link asked to queue ${parsed.url}: choose an account and paste the link in the window`,
    );
    return { kind: 'refused', reason: 'no account' };
  }
  const sources = deps.sourcesOf(account);
  if (sources === null) {
    deps.notice('warning', `A ferry:// link named the account "${account.slice(0, 60)}", which Ferry does not have`);
    return { kind: 'refused', reason: 'unknown account' };
  }
  if (sources !== 'url') {
    deps.notice(
      'warning',
      `A ferry:// link asked to queue ${parsed.url} for ${account}, which takes files, not links: download it and drop it on the window`,
    );
    return { kind: 'refused', reason: 'not a pull provider' };
  }
  const result = await deps.enqueue(account, [parsed.url]);
  if (!result.ok) {
    deps.notice('error', `Could not queue ${parsed.url} from a ferry:// link: ${result.error.message}`);
    return { kind: 'refused', reason: result.error.message };
  }
  deps.notice('info', `Queued ${parsed.url} for ${account} from a ferry:// link`);
  return { ...parsed, account };
}
