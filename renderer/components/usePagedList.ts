import { useCallback, useEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { showRange, type ListKind } from '../store/lists.ts';

/**
 * Rows rendered beyond each edge of the viewport. A scroll re-renders in the same frame (flushSync), so
 * the margin only covers what the compositor scrolls ahead of the main thread; 3 instead of 6 cut the
 * main-thread time of a fast scroll by about a fifth (uiAb, same run).
 */
const OVERSCAN = 3;
/**
 * Rows kept behind the viewport while it moves: those rows are leaving the screen, so only a turn of
 * the scroll direction within the frame could show them. One row covers that turn; the full margin stays
 * ahead. A fast scroll re-renders every row each frame, so each row not rendered is a row's work saved.
 */
const OVERSCAN_BEHIND = 1;
/**
 * A fast scroll (a fling, a dragged scrollbar, a held Page Down): the list moves more than half its
 * height from one scroll event to the next (browsers send one a frame), the events less than
 * FLING_GAP_MS apart, so each frame shows rows nobody had time to read. The first event after a pause
 * never counts (one Page Down or a jump to a row shows full rows). Per event rather than per
 * millisecond: a frame that comes late moves further, and a busy machine should not get full rows,
 * the costlier ones, exactly when its frames are late.
 */
const FLING_GAP_MS = 100;
/** A fast scroll ends on the first slower scroll event, or this long after its last event. */
const SETTLE_MS = 120;

/** The clock scroll speed is read with: tests set their own, so their scrolls are slow or fast by design. */
export const scrollClock = { now: (): number => performance.now() };

export interface ListItem {
  index: number;
  /** Offset of the row's top from the list's top, in pixels. */
  start: number;
}

interface Viewport {
  first: number;
  last: number;
  /** The last row a viewport whose top row is `first` can show at all (its top row cut, one more below). */
  reach: number;
  /** Which way the last scroll went: 1 down, -1 up, 0 not yet scrolled. */
  direction?: -1 | 0 | 1;
}

/** The rows a viewport of `height` pixels scrolled to `top` shows (inclusive), for rows of `rowHeight`. */
export function visibleRows(top: number, height: number, rowHeight: number): Viewport {
  const first = Math.max(0, Math.floor(top / rowHeight));
  const last = Math.max(first, Math.ceil((top + height) / rowHeight) - 1);
  return { first, last, reach: first + Math.max(0, Math.ceil(height / rowHeight)) };
}

/**
 * A virtualized list over a server-paged list of the store: the rows in view (plus overscan) are the
 * range the store keeps loaded, so scrolling through 100,000 jobs reads only the pages it shows.
 *
 * Every row has the same height, so which rows are on screen is one division: no per-row measurement
 * (a general virtualizer builds a measurement for each of the 100,000 rows when the total arrives) and
 * no layout read when the list mounts (its size comes from a ResizeObserver, which reports after the
 * browser's own layout; until then the window's height less `above`, the part over the list, is the
 * guess). A scroll re-renders only when
 * the first or last row on screen changes, synchronously, so the rows move in the frame that scrolls.
 */
export function usePagedList(kind: ListKind, total: number, rowHeight: number, above = 0) {
  const [viewport, setViewport] = useState<Viewport>(() => ({
    ...visibleRows(0, typeof window === 'undefined' ? 720 : window.innerHeight - above, rowHeight),
    direction: 0,
  }));
  const [fast, setFast] = useState(false);
  const detach = useRef<(() => void) | null>(null);
  const parent = useCallback(
    (element: HTMLDivElement | null) => {
      detach.current?.();
      detach.current = null;
      if (!element) return;
      let height = 0;
      let lastTop = element.scrollTop;
      let lastAt = -Infinity;
      let settle: ReturnType<typeof setTimeout> | undefined;
      const update = (sync: boolean): void => {
        const top = element.scrollTop;
        const viewHeight = height || element.clientHeight;
        const next = visibleRows(top, viewHeight, rowHeight);
        const moved = top > lastTop ? 1 : top < lastTop ? -1 : 0;
        let quick = false;
        if (sync) {
          const at = scrollClock.now();
          const gap = at - lastAt;
          quick = gap < FLING_GAP_MS && Math.abs(top - lastTop) * 2 > viewHeight;
          lastAt = at;
          clearTimeout(settle);
          if (quick) settle = setTimeout(() => setFast(false), SETTLE_MS);
        }
        lastTop = top;
        const apply = (): void => {
          setViewport((now) => {
            const direction = moved || now.direction || 0;
            return now.first === next.first &&
              now.last === next.last &&
              now.reach === next.reach &&
              now.direction === direction
              ? now
              : { ...next, direction };
          });
          if (sync) setFast(quick);
        };
        if (sync) flushSync(apply);
        else apply();
      };
      const onScroll = (): void => update(true);
      element.addEventListener('scroll', onScroll, { passive: true });
      const resize =
        typeof ResizeObserver === 'undefined'
          ? null
          : new ResizeObserver((entries) => {
              const box = entries[entries.length - 1]?.contentRect;
              if (!box || box.height === height) return;
              height = box.height;
              update(false);
            });
      resize?.observe(element);
      detach.current = () => {
        // A fling cut short by another scroller element must not leave the rows light.
        if (settle !== undefined) setFast(false);
        clearTimeout(settle);
        element.removeEventListener('scroll', onScroll);
        resize?.disconnect();
      };
    },
    [rowHeight],
  );

  const lastRow = total - 1;
  // A fast scroll moves more than half the list each frame: a spare row or three (56-168 px) cover
  // little of what the compositor scrolls ahead of a frame, and every row that comes in is drawn anew,
  // so it keeps none on either side (two rows' work a frame saved); they come back with the full rows.
  // It also draws the same number of rows in every frame, the most that can show at once: the rows on
  // screen alternate between 13 and 14 (720 px of 56-px rows) as the offset moves, and each extra one
  // would be a row element created in the scroll's own frame (1.3-1.9 ms more of that frame's scroll
  // handler, in a quarter of the frames). The row below the screen costs less than creating one: style
  // recalculation 0.74-0.76 and main-thread CPU 0.87-0.97 of before (uiFrames --trace, same runs).
  const ahead = fast ? 0 : OVERSCAN;
  const behind = fast ? 0 : OVERSCAN_BEHIND;
  const first = Math.max(0, Math.min(viewport.first, lastRow) - (viewport.direction === 1 ? behind : ahead));
  const last = Math.min(lastRow, fast ? viewport.reach : viewport.last + (viewport.direction === -1 ? behind : ahead));
  const items: ListItem[] = [];
  for (let index = first; index <= last; index += 1) items.push({ index, start: index * rowHeight });
  const rangeFirst = items[0]?.index ?? 0;
  const rangeLast = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    void showRange(kind, rangeFirst, rangeLast);
  }, [kind, rangeFirst, rangeLast]);
  return { parent, totalSize: total * rowHeight, items, fast };
}
