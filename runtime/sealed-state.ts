// Secrets in a job's checkpoint state. A local that holds the text of a secret the job read
// (`asset()` of a secret, `asset_set` of one), whole or inside a longer string, a list or a map
// ("user:${pw}", {password: pw}), never reaches the database in clear: before each write of the
// state, every such local moves out of its frame into one AES-256-GCM envelope (the assets key,
// RUNBOOK_SECRET_KEY; the job's id bound as associated data, so an envelope copied to another
// job does not open), stored as the state's `sealed` field. Loading the state opens it and puts
// the locals back. The envelope also carries the secret texts, so a job resumed on another
// worker, or after a secret was rotated away, still knows what to seal and mask.
//
// The cost: nothing when the job holds no secret (one size check per write, one field check
// per load); otherwise a scan of the locals and one small AES operation per write.
import type { Frame, JobState, Json } from "./abi.js";
import { MIN_SECRET_LENGTH, seal, unseal, type Key } from "./builtins/asset.js";

/** A JobState as stored: the locals holding a secret sealed into `sealed`. */
export interface StoredState extends JobState {
  sealed?: string;
}

/** What the envelope holds: the secret texts, and each sealed local as [frame, name, value]. */
interface SealedPart {
  texts: string[];
  locals: [number, string, Json][];
}

/** The associated data of a job's envelope: `job:ID` (an asset name cannot contain `:`). */
export const stateEnvelopeName = (jobId: string): string => `job:${jobId}`;
const aad = stateEnvelopeName;

/**
 * The state to store for `jobId`, given the secret texts the job holds: `state` itself when no
 * local holds one (no copy), else a copy with those locals sealed. `state` is never changed:
 * the job goes on running with it.
 */
export function sealState(state: JobState, jobId: string, secrets: ReadonlySet<string>, key: () => Key): StoredState {
  if (secrets.size === 0) return state;
  const texts = [...secrets].filter((t) => t.length >= MIN_SECRET_LENGTH);
  // Inside JSON text (a list or map local) a secret appears JSON-escaped.
  const escaped = texts.map((t) => JSON.stringify(t).slice(1, -1));
  const found = new Set<number>();
  const holds = (v: Json): boolean => {
    let hit = false;
    if (typeof v === "string") {
      texts.forEach((t, i) => v.includes(t) && (found.add(i), (hit = true)));
    } else if (typeof v === "number") {
      const n = String(v);
      texts.forEach((t, i) => n.includes(t) && (found.add(i), (hit = true)));
    } else if (v !== null && typeof v === "object") {
      const json = JSON.stringify(v);
      escaped.forEach((t, i) => json.includes(t) && (found.add(i), (hit = true)));
    }
    return hit;
  };
  const locals: SealedPart["locals"] = [];
  state.frames.forEach((frame, i) => {
    for (const name in frame.locals) if (holds(frame.locals[name])) locals.push([i, name, frame.locals[name]]);
  });
  if (locals.length === 0) return state;
  const part: SealedPart = { texts: [...found].map((i) => texts[i]), locals };
  const frames: Frame[] = state.frames.map((frame, i) => {
    if (!locals.some(([f]) => f === i)) return frame;
    const kept: Record<string, Json> = {};
    for (const name in frame.locals) if (!locals.some(([f, n]) => f === i && n === name)) kept[name] = frame.locals[name];
    return { ...frame, locals: kept };
  });
  return { ...state, frames, sealed: seal(aad(jobId), part as unknown as Json, key(), true) };
}

/** A stored state opened: the state to run, and the secret texts its sealed locals hold. */
export interface OpenedState {
  state: JobState;
  secrets: string[];
}

/**
 * Opens a stored state (in place: the object is the caller's, fresh from the database). Throws
 * an Error saying why when its envelope does not open (no key, a wrong key, altered) or is not
 * what sealState writes.
 */
export function openState(stored: StoredState, jobId: string, keys: () => Key[]): OpenedState {
  if (stored.sealed === undefined) return { state: stored, secrets: [] };
  if (typeof stored.sealed !== "string") throw new Error("its sealed secrets are not an envelope");
  let part: unknown;
  try {
    part = unseal(aad(jobId), stored.sealed, keys());
  } catch (e) {
    throw new Error(`its sealed secrets do not open: ${(e as Error).message.replace(/^cannot open secret asset job:\S+: /, "")}`);
  }
  if (!isSealedPart(part) || part.locals.some(([f]) => !stored.frames[f])) throw new Error("its sealed secrets are not in the expected form");
  for (const [f, name, value] of part.locals) stored.frames[f].locals[name] = value;
  delete stored.sealed;
  return { state: stored, secrets: part.texts };
}

function isSealedPart(v: unknown): v is SealedPart {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Partial<SealedPart>;
  return (
    Array.isArray(p.texts) &&
    p.texts.every((t) => typeof t === "string") &&
    Array.isArray(p.locals) &&
    p.locals.every((l) => Array.isArray(l) && l.length === 3 && Number.isInteger(l[0]) && typeof l[1] === "string")
  );
}
