// Slot ownership by rendezvous (highest random weight) hashing: slot s belongs to the live
// deployed worker w with the highest hash(w, s). Every worker computes the same answer from the
// same view, and adding or removing a worker moves only the slots it gains or loses.
import type { DeploymentRow } from "./rows.js";

/** 32-bit FNV-1a, then a murmur3 finalizer so similar names spread well. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The owner of every slot (index = slot), or null where no worker is eligible. */
export function assignSlots(slotCount: number, eligible: string[]): (string | null)[] {
  const owners: (string | null)[] = new Array(slotCount).fill(null);
  for (let slot = 0; slot < slotCount; slot++) {
    let best = -1;
    for (const w of eligible) {
      const score = hash32(`${w}\u0000${slot}`);
      if (score > best || (score === best && w < owners[slot]!)) {
        best = score;
        owners[slot] = w;
      }
    }
  }
  return owners;
}

/** The workers that share the slots: named by the deployment, alive and not draining. */
export function eligibleWorkers(deployment: DeploymentRow | null, alive: string[]): string[] {
  if (!deployment) return [];
  const live = new Set(alive);
  return deployment.workers.filter((w) => live.has(w)).sort();
}

/** The slots `worker` owns. */
export function slotsOf(worker: string, slotCount: number, eligible: string[]): number[] {
  const owners = assignSlots(slotCount, eligible);
  const mine: number[] = [];
  owners.forEach((o, s) => o === worker && mine.push(s));
  return mine;
}
