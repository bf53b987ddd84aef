import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef } from 'react';
import { showRange, type ListKind } from '../store/lists.ts';

/**
 * A virtualized list over a server-paged list of the store: the rows in view (plus overscan) are the
 * range the store keeps loaded, so scrolling through 100,000 jobs reads only the pages it shows.
 */
export function usePagedList(kind: ListKind, total: number, rowHeight: number) {
  const parent = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => parent.current,
    estimateSize: () => rowHeight,
    overscan: 6,
    // A first guess of the viewport so the first rows render before layout is measured.
    initialRect: { width: 1000, height: 720 },
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    void showRange(kind, first, last);
  }, [kind, first, last]);
  return { parent, virtualizer, items };
}
