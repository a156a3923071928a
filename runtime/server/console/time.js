// Times for people: relative times that stay current, and durations. The wording is the CLI's
// (cli/human-time.ts, served transpiled as shared/human-time.js): one rule for both.
import { humanDuration, relativeTime } from "./shared/human-time.js";
import { h } from "./dom.js";

export { humanDuration, relativeTime };

/** A <time> showing "3m ago" (kept current by tick()), with the exact time on hover. */
export function ago(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  return h("time", { datetime: at.toISOString(), title: at.toLocaleString(), "data-relative": "" }, relativeTime(at));
}

/** How long from `from` to `to` (or to now, while it runs). */
export function took(from, to) {
  if (!from) return "";
  return humanDuration((to ? new Date(to) : new Date()).getTime() - new Date(from).getTime());
}

/** Refreshes every relative time on the page. */
export function tick(root = document) {
  const now = new Date();
  for (const t of root.querySelectorAll("time[data-relative]")) t.textContent = relativeTime(new Date(t.getAttribute("datetime")), now);
}
