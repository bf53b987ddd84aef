import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';
import { initialState, type FerryState } from './slices.ts';

/** The renderer's one store. Written with `setState` by actions and API events, read with `useFerry`. */
export const ferryStore = createStore<FerryState>()(() => initialState());

export function useFerry<T>(selector: (state: FerryState) => T): T {
  return useStore(ferryStore, selector);
}

/** Back to the first state (tests call this between cases). */
export function resetFerryStore(): void {
  ferryStore.setState(initialState(), true);
}
