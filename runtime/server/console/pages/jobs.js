// Jobs: the newest jobs, refreshed every 2 s, filtered by status, runbook and parent, a page at a
// time (GET /api/jobs?status=&runbook=&parent=&limit=&cursor=).
import { api } from "../api.js";
import { badge, fill, h, table } from "../dom.js";
import { every } from "../poll.js";
import { ago, took } from "../time.js";

const STATUSES = ["queued", "running", "sleeping", "waiting", "suspended", "completed", "failed", "stopped"];
const PAGE = 50;
/** The filters outlive a visit to a job and back. */
const filters = { status: "", runbook: "", parent: "" };

export function jobsPage(view) {
  const list = h("div", { id: "jobs-list" });
  const error = h("p", { class: "error", role: "alert" });
  const more = h("div", { class: "pager" });
  /** Cursors of the pages before this one (for "Newer"), and this page's. */
  const cursors = [];
  let cursor = "";

  const status = h("select", { id: "filter-status", onchange: () => ((filters.status = status.value), restart()) }, h("option", { value: "" }, "any status"), STATUSES.map((s) => h("option", { value: s }, s)));
  status.value = filters.status;
  const runbook = h("input", { id: "filter-runbook", placeholder: "runbook", value: filters.runbook, onchange: () => ((filters.runbook = runbook.value.trim()), restart()) });
  const parent = h("input", { id: "filter-parent", placeholder: "parent job id", value: filters.parent, onchange: () => ((filters.parent = parent.value.trim()), restart()) });

  async function refresh() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    if (cursor) q.set("cursor", cursor);
    try {
      const page = await api("GET", `/api/jobs?${q}`);
      fill(error);
      fill(list, page.jobs.length === 0 ? h("p", { class: "muted" }, "No jobs.") : table(["job", "runbook", "status", "checkpoint", "worker", "started", "took", "parent"], page.jobs.map(row)));
      fill(
        more,
        cursors.length > 0 ? h("button", { onclick: () => ((cursor = cursors.pop()), restart(true)) }, "← Newer") : null,
        page.next ? h("button", { onclick: () => (cursors.push(cursor), (cursor = page.next), restart(true)) }, "Older →") : null,
      );
    } catch (e) {
      fill(error, e.message);
    }
  }

  let stop = () => {};
  function restart(keepCursor = false) {
    if (!keepCursor) {
      cursor = "";
      cursors.length = 0;
    }
    stop();
    stop = every(2000, refresh);
  }

  fill(view, h("h1", {}, "Jobs"), h("div", { class: "filters" }, status, runbook, parent), error, list, more);
  restart();
  return () => stop();
}

function row(j) {
  const link = (id) => h("a", { href: `#/jobs/${encodeURIComponent(id)}` }, id.length > 13 ? `${id.slice(0, 8)}…` : id);
  return h(
    "tr",
    { "data-job": j.id },
    h("td", { class: "mono", title: j.id }, link(j.id)),
    h("td", {}, j.runbook),
    h("td", {}, badge(j.status)),
    h("td", {}, j.checkpoint_label ? [j.checkpoint_label, " ", h("span", { class: "muted" }, ago(j.checkpoint_at))] : ""),
    h("td", {}, j.worker ?? ""),
    h("td", {}, ago(j.created_at)),
    h("td", {}, took(j.created_at, j.finished_at)),
    h("td", { class: "mono" }, j.parent_id ? link(j.parent_id) : ""),
  );
}
