// Job: its state and result, the status timeline from its history, its output streams as they
// arrive (server-sent events from GET /api/jobs/:id/output?follow=1), the locals of its latest
// checkpoint, its branches and children, and, for operators, signal/suspend/resume/stop.
import { allows, api } from "../api.js";
import { badge, fill, h, table } from "../dom.js";
import { every } from "../poll.js";
import { ago, took } from "../time.js";

const FINISHED = ["completed", "failed", "stopped"];

export function jobPage(view, { me, arg: id }) {
  const summary = h("section", { id: "job-summary", class: "card" });
  const actions = h("section", { id: "job-actions" });
  const notice = h("p", { role: "status", class: "notice" });
  const output = h("pre", { id: "job-output", class: "output", "aria-live": "polite" });
  const outputState = h("span", { id: "output-state", class: "muted" }, "connecting…");
  const timeline = h("section", { id: "job-timeline" });
  const locals = h("section", { id: "job-locals" });
  const children = h("section", { id: "job-children" });
  /** The status the buttons were drawn for: they are redrawn when it changes or after an action, not on every refresh (that would wipe a signal half typed). */
  let drawnFor = null;

  fill(
    view,
    h("p", {}, h("a", { href: "#/jobs" }, "← Jobs")),
    h("h1", {}, "Job ", h("span", { class: "mono" }, id)),
    summary,
    actions,
    notice,
    h("h2", {}, "Output ", outputState),
    output,
    h("div", { class: "columns" }, h("div", {}, h("h2", {}, "Timeline"), timeline), h("div", {}, h("h2", {}, "Locals at the latest checkpoint"), locals)),
    h("h2", {}, "Branches and children"),
    children,
  );

  async function refresh(redraw = false) {
    let d;
    try {
      d = await api("GET", `/api/jobs/${encodeURIComponent(id)}`);
    } catch (e) {
      fill(summary, h("p", { class: "error" }, e.message));
      return;
    }
    showSummary(summary, d.job);
    if (redraw || drawnFor !== d.job.status) {
      drawnFor = d.job.status;
      showActions(actions, d.job, me, act);
    }
    showTimeline(timeline, d.history);
    showLocals(locals, d.locals);
    fill(children, d.children.length === 0 ? h("p", { class: "muted" }, "None.") : table(["job", "runbook", "status", "started", "took"], d.children.map(childRow)));
  }

  /** Runs an action (POST) and says what happened. */
  async function act(what, path, body) {
    fill(notice);
    notice.className = "notice";
    try {
      await api("POST", path, body);
      fill(notice, `${what}: done`);
    } catch (e) {
      notice.className = "notice error";
      fill(notice, `${what}: ${e.message}`);
    }
    await refresh(true);
  }

  // Output: every record once, in order; on a reconnect the browser sends Last-Event-ID and the
  // server continues after it.
  const seen = new Set();
  const events = new EventSource(`/api/jobs/${encodeURIComponent(id)}/output?follow=1`);
  events.addEventListener("open", () => fill(outputState, "live"));
  events.addEventListener("record", (e) => {
    const r = JSON.parse(e.data);
    if (seen.has(r.seq)) return;
    seen.add(r.seq);
    output.append(h("div", { class: `record ${r.stream}`, "data-seq": r.seq }, h("span", { class: "stream" }, r.stream), " ", typeof r.value === "string" ? r.value : JSON.stringify(r.value)));
    output.scrollTop = output.scrollHeight;
  });
  events.addEventListener("status", () => void refresh());
  events.addEventListener("end", () => {
    events.close();
    fill(outputState, "the job has ended");
    void refresh();
  });
  events.addEventListener("error", (e) => {
    if (e.data) {
      events.close();
      fill(outputState, JSON.parse(e.data).error);
    } else if (events.readyState === EventSource.CONNECTING) {
      fill(outputState, "reconnecting…");
    } else {
      // Closed for good (the session ended, the server refused): the rest of the page still refreshes.
      fill(outputState, "disconnected: reload the page to follow again");
    }
  });

  const stopPolling = every(5000, refresh);
  return () => {
    stopPolling();
    events.close();
  };
}

function showSummary(el, j) {
  const rows = [
    ["status", [badge(j.status), j.control ? h("span", { class: "muted" }, ` (${j.control} pending at the next checkpoint)`) : null]],
    ["runbook", h("a", { href: `#/runbooks/${encodeURIComponent(j.runbook)}` }, j.runbook)],
    ["version", h("span", { class: "mono", title: j.version }, j.version.slice(0, 12))],
    ["parameters", h("code", {}, JSON.stringify(j.params))],
    ["started", [ago(j.created_at), j.finished_at ? [" · took ", took(j.created_at, j.finished_at)] : [" · running for ", took(j.created_at)]]],
    ["worker", j.worker ? `${j.worker} (slot ${j.slot})` : `slot ${j.slot}`],
    ["checkpoint", j.checkpoint_label ? [j.checkpoint_label, " ", ago(j.checkpoint_at), ` · ${j.checkpoints} in all`] : "none yet"],
    j.wait_signal ? ["waiting for", ["signal ", h("code", {}, j.wait_signal), j.wait_until ? [" until ", ago(j.wait_until)] : null]] : null,
    j.await_job ? ["awaiting", h("a", { href: `#/jobs/${encodeURIComponent(j.await_job)}` }, j.await_job)] : null,
    j.status === "sleeping" && j.wait_until ? ["sleeping until", ago(j.wait_until)] : null,
    j.parent_id ? ["parent", h("a", { href: `#/jobs/${encodeURIComponent(j.parent_id)}` }, j.parent_id)] : null,
    j.result !== null && j.result !== undefined ? ["result", h("code", { id: "job-result" }, JSON.stringify(j.result))] : null,
    j.error ? ["error", h("span", { class: "error", id: "job-error" }, errorText(j.error))] : null,
  ].filter(Boolean);
  fill(el, h("dl", {}, rows.map(([k, v]) => [h("dt", {}, k), h("dd", { "data-field": k }, v)])));
}

function errorText(e) {
  const where = e.file ? `${e.file}:${e.line}:${e.column}: ` : e.runbook ? `${e.runbook}: ` : "";
  return `${where}${e.message}`;
}

function showActions(el, j, me, act) {
  if (!allows(me.role, "operator")) {
    fill(el, h("p", { class: "muted" }, `A ${me.role} token can look but not act: operators signal, suspend, resume and stop.`));
    return;
  }
  if (FINISHED.includes(j.status)) {
    fill(el);
    return;
  }
  const path = (verb) => `/api/jobs/${encodeURIComponent(j.id)}/${verb}`;
  const name = h("input", { id: "signal-name", placeholder: "signal name", required: true, value: j.wait_signal ?? "" });
  const payload = h("textarea", { id: "signal-payload", rows: 1, cols: 40, placeholder: "payload (JSON, empty for null)" });
  const signal = h(
    "form",
    {
      class: "inline",
      onsubmit: (e) => {
        e.preventDefault();
        let value = null;
        if (payload.value.trim() !== "") {
          try {
            value = JSON.parse(payload.value);
          } catch {
            payload.setCustomValidity("not JSON");
            payload.reportValidity();
            return;
          }
        }
        payload.setCustomValidity("");
        void act(`signal ${name.value}`, path("signal"), { name: name.value.trim(), payload: value });
      },
    },
    name,
    payload,
    h("button", { type: "submit", id: "send-signal" }, "Send signal"),
  );
  const button = (verb, label, confirmText) =>
    h("button", { id: `job-${verb}`, onclick: () => (!confirmText || confirm(confirmText)) && act(verb, path(verb)) }, label);
  fill(
    el,
    h(
      "div",
      { class: "toolbar" },
      j.status === "suspended" ? button("resume", "Resume") : button("suspend", "Suspend"),
      button("stop", "Stop", `Stop job ${j.id}? A stopped job never runs again.`),
      signal,
    ),
  );
}

function showTimeline(el, history) {
  fill(
    el,
    h(
      "ol",
      { class: "timeline" },
      history.map((x) =>
        h(
          "li",
          { "data-to": x.to_status },
          h("span", { class: "when", title: new Date(x.at).toLocaleString() }, ago(x.at)),
          " ",
          x.from_status ? [badge(x.from_status), " → "] : null,
          badge(x.to_status),
          x.worker ? h("span", { class: "muted" }, ` on ${x.worker}`) : null,
          x.reason ? h("div", { class: "reason" }, x.reason) : null,
        ),
      ),
    ),
  );
}

function showLocals(el, locals) {
  if (!locals) {
    fill(el, h("p", { class: "muted" }, "No checkpoint yet."));
    return;
  }
  fill(
    el,
    locals.frames.map((f, i) =>
      h(
        "div",
        { class: "frame" },
        h("h3", {}, i === 0 ? f.runbook : `called: ${f.runbook}`),
        Object.keys(f.locals).length === 0
          ? h("p", { class: "muted" }, "No locals.")
          : table(["name", "value"], Object.entries(f.locals).map(([k, v]) => h("tr", {}, h("td", { class: "mono" }, k), h("td", {}, h("code", {}, JSON.stringify(v)))))),
      ),
    ),
    locals.sealed ? h("p", { class: "muted" }, "Some locals hold secrets: they are sealed and not shown.") : null,
  );
}

function childRow(j) {
  return h(
    "tr",
    {},
    h("td", { class: "mono" }, h("a", { href: `#/jobs/${encodeURIComponent(j.id)}` }, j.id)),
    h("td", {}, j.runbook),
    h("td", {}, badge(j.status)),
    h("td", {}, ago(j.created_at)),
    h("td", {}, took(j.created_at, j.finished_at)),
  );
}
