// Key rotation: re-seals every envelope the database holds (secret assets, job states with
// sealed secrets) under RUNBOOK_SECRET_KEY, opening each with that key or
// RUNBOOK_SECRET_KEY_PREVIOUS. Envelopes that open with the current key already are left alone,
// so running it again after a miss only does what is left. The procedure around it (workers
// first, then this, then drop the previous key) is in docs/activities.md.
import type { Json } from "./abi.js";
import { seal, secretKey, secretKeys, unseal } from "./builtins/asset.js";
import type { Queryable } from "./rows.js";
import { stateEnvelopeName } from "./sealed-state.js";
import { jobsWithSealedState, replaceJobState, replaceSealedAsset, sealedAssets } from "./sql/sealed.js";

export interface RekeyReport {
  assets: number;
  jobs: number;
  /** Already under the current key. */
  current: number;
  /** Changed while being re-sealed (a checkpoint, a new value): run again. */
  missed: number;
}

export async function rekey(db: Queryable, actor: string): Promise<RekeyReport> {
  const key = secretKey();
  const keys = secretKeys();
  const report: RekeyReport = { assets: 0, jobs: 0, current: 0, missed: 0 };
  /** The envelope re-sealed under the current key, or null when it is under it already. */
  const reseal = (name: string, envelope: string, reuseSalt: boolean): string | null => {
    try {
      unseal(name, envelope, key);
      return null;
    } catch {
      return seal(name, unseal(name, envelope, keys), key, reuseSalt);
    }
  };
  for (const a of await sealedAssets(db)) {
    const sealed = reseal(a.name, a.sealed, false);
    if (sealed === null) report.current++;
    else if (await replaceSealedAsset(db, a.name, a.sealed, sealed, actor)) report.assets++;
    else report.missed++;
  }
  for (const j of await jobsWithSealedState(db)) {
    const envelope = (JSON.parse(j.state) as { sealed: Json }).sealed;
    if (typeof envelope !== "string") throw new Error(`job ${j.id}: its sealed secrets are not an envelope`);
    let sealed: string | null;
    try {
      sealed = reseal(stateEnvelopeName(j.id), envelope, true);
    } catch {
      throw new Error(`job ${j.id}: its sealed secrets open with neither RUNBOOK_SECRET_KEY nor RUNBOOK_SECRET_KEY_PREVIOUS`);
    }
    if (sealed === null) report.current++;
    // Only the envelope's text changes: the rest of the state stays byte for byte as stored.
    else if (await replaceJobState(db, j.id, j.state, j.state.replace(envelope, sealed))) report.jobs++;
    else report.missed++;
  }
  return report;
}
