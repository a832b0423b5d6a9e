/**
 * Loading the C2PA library: a 48 MB native module, loaded once and only when a function that signs
 * or reads credentials needs it, with a message that says why when it cannot load here.
 */

import type * as C2pa from '@contentauth/c2pa-node';

export type C2paModule = typeof C2pa;
let c2paModule: Promise<C2paModule> | undefined;

/** Loads c2pa-node once per process; its binary is only required on first native call, so make one. */
export function loadC2pa(): Promise<C2paModule> {
  c2paModule ??= (async () => {
    try {
      const module = await import('@contentauth/c2pa-node');
      module.Builder.new();
      return module;
    } catch (cause) {
      c2paModule = undefined;
      // The first line: require() appends a multi-line "Require stack".
      const detail = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
      throw new Error(
        `content credentials are unavailable on this platform (${process.platform}-${process.arch}): the C2PA library @contentauth/c2pa-node could not load its native binary (${detail}). It ships a Linux x64 build; elsewhere set C2PA_LIBRARY_PATH to a c2pa-node binary built for this platform.`,
        { cause },
      );
    }
  })();
  return c2paModule;
}

/** Whether content credentials can be signed and read here; `reason` says why not. */
export async function credentialsAvailable(): Promise<{ ok: boolean; reason?: string }> {
  try {
    await loadC2pa();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
