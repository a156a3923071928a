// Schedules: each schedule's runbook, cron and time zone, its next fire times, paused or not
// (GET /api/schedules, refreshed every 5 s); operators pause and resume
// (POST /api/schedules/:name/pause|resume).
import { allows, api } from "../api.js";
import { badge, fill, h, table } from "../dom.js";
import { every } from "../poll.js";
import { ago } from "../time.js";

export function schedulesPage(view, { me }) {
  const list = h("section", { id: "schedules" });
  const notice = h("p", { role: "status", class: "notice" });
  fill(view, h("h1", {}, "Schedules"), notice, list);
  const operator = allows(me.role, "operator");

  async function act(name, verb) {
    try {
      await api("POST", `/api/schedules/${encodeURIComponent(name)}/${verb}`);
      notice.className = "notice";
      fill(notice, `${name}: ${verb}d`);
    } catch (e) {
      notice.className = "notice error";
      fill(notice, `${verb} ${name}: ${e.message}`);
    }
    await refresh();
  }

  async function refresh() {
    try {
      const all = await api("GET", "/api/schedules");
      if (all.length === 0) {
        fill(list, h("p", { class: "muted" }, "No schedules: ", h("code", {}, 'runbook schedule set NAME --runbook RB --cron "0 3 * * *"')));
        return;
      }
      fill(
        list,
        table(
          ["schedule", "runbook", "cron", "next fire times", "state", operator ? "" : null].filter((x) => x !== null),
          all.map((s) => {
            const next = s.next ? [s.next] : []; // the next tick (ISO-8601), null while paused
            return h(
              "tr",
              { "data-schedule": s.name },
              h("td", {}, s.name),
              h("td", {}, h("a", { href: `#/runbooks/${encodeURIComponent(s.runbook)}` }, s.runbook)),
              h("td", { class: "mono" }, `${s.cron}${s.tz ? ` (${s.tz})` : ""}`),
              h("td", {}, next.length === 0 ? h("span", { class: "muted" }, "none") : h("ul", { class: "plain" }, next.map((t) => h("li", {}, ago(t), h("span", { class: "muted" }, ` · ${new Date(t).toLocaleString()}`))))),
              h("td", {}, badge(s.paused ? "paused" : "active")),
              operator ? h("td", {}, h("button", { onclick: () => act(s.name, s.paused ? "resume" : "pause") }, s.paused ? "Resume" : "Pause")) : null,
            );
          }),
        ),
      );
    } catch (e) {
      notice.className = "notice error";
      fill(notice, e.message);
    }
  }

  return every(5000, refresh);
}
