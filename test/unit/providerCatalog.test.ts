import { describe, expect, it } from 'vitest';
import { PROVIDER_DESCRIPTIONS } from '../../main/providers/catalog.ts';
import { listAdapters } from '../../main/providers/registry.ts';

// `ferry providers` prints the catalogue without loading the adapters; the API, the engine and the
// window use the registry. The two must describe the same providers, in the same order, with the same
// fields and capabilities (each adapter spreads its description: the very same objects).
describe('provider catalogue', () => {
  it("describes the registry's adapters, in order, with their own fields and capabilities", () => {
    const adapters = listAdapters();
    expect(PROVIDER_DESCRIPTIONS.map((d) => d.id)).toEqual(adapters.map((a) => a.id));
    PROVIDER_DESCRIPTIONS.forEach((description, i) => {
      const adapter = adapters[i]!;
      expect(adapter.displayName).toBe(description.displayName);
      expect(adapter.fields).toBe(description.fields);
      expect(adapter.capabilities).toBe(description.capabilities);
    });
  });
});
