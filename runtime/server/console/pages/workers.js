// Workers: the deployment, each worker's heartbeat, group, state and the jobs it holds, and the
// slots drawn by owner (GET /api/workers, refreshed every 2 s). Admins drain a worker
// (POST /api/workers/:name/drain) and replace the deployment (PUT /api/deployment).
import { allows, api } from "../api.js";
import { badge, fill, h, table } from "../dom.js";
import { every } from "../poll.js";
import { ago, humanDuration } from "../time.js";

export function workersPage(view, { me }) {
  const deployment = h("section", { id: "deployment" });
  const workers = h("section", { id: "workers" });
  const slots = h("section", { id: "slots" });
  const notice = h("p", { role: "status", class: "notice" });
  const admin = allows(me.role, "admin");
  const deployForm = admin ? deployEditor(notice, () => refresh()) : null;
  fill(view, h("h1", {}, "Workers"), notice, deployment, deployForm?.form, workers, h("h2", {}, "Slots by owner"), slots);

  async function refresh() {
    try {
      const [fleet, running] = await Promise.all([api("GET", "/api/workers"), api("GET", "/api/jobs?status=running&limit=500")]);
      const held = new Map();
      for (const j of running.jobs) if (j.worker) held.set(j.worker, [...(held.get(j.worker) ?? []), j]);
      assignColours([...new Set([...fleet.workers.map((w) => w.name), ...fleet.owners.filter(Boolean)])].sort());
      const d = fleet.deployment;
      fill(deployment, d ? h("p", {}, `Deployment generation ${d.generation}${d.auto ? " (workers joined on their own)" : ""}: `, h("strong", {}, d.workers.join(", ") || "no workers"), " · made ", ago(d.created_at)) : h("p", { class: "muted" }, "No deployment yet: the first worker to start makes one."));
      deployForm?.suggest(d?.workers ?? []);
      fill(
        workers,
        fleet.workers.length === 0
          ? h("p", { class: "muted" }, "No worker has ever run: ", h("code", {}, "runbook worker"))
          : table(
              ["worker", "state", "group", "heartbeat", "slots", "jobs held", "host", admin ? "" : null].filter((x) => x !== null),
              fleet.workers.map((w) => workerRow(w, held.get(w.name) ?? [], admin ? () => drain(w.name) : null)),
            ),
      );
      drawSlots(slots, fleet.owners);
    } catch (e) {
      notice.className = "notice error";
      fill(notice, e.message);
    }
  }

  async function drain(name) {
    const timeout = prompt(`Drain ${name}: its jobs hand over at their next checkpoint, then it exits. Interrupt jobs without a checkpoint after (e.g. 10m):`, "10m");
    if (timeout === null) return;
    try {
      await api("POST", `/api/workers/${encodeURIComponent(name)}/drain`, { timeout });
      notice.className = "notice";
      fill(notice, `${name} is draining`);
    } catch (e) {
      notice.className = "notice error";
      fill(notice, `drain ${name}: ${e.message}`);
    }
    await refresh();
  }

  return every(2000, refresh);
}

function workerRow(w, jobs, drain) {
  const state = w.state ?? (w.alive ? "alive" : "dead");
  return h(
    "tr",
    { "data-worker": w.name },
    h("td", {}, h("span", { class: "swatch" }, colorOf(w.name)), " ", w.name, w.deployed === false ? h("span", { class: "muted" }, " (not deployed)") : null),
    h("td", {}, badge(state)),
    h("td", {}, w.group ?? w.worker_group ?? "default"),
    h("td", {}, `${humanDuration(w.heartbeat_age_ms)} ago`),
    h("td", {}, String(w.slots ?? "")),
    h("td", {}, `${w.running} of ${w.concurrency}`, jobs.length ? h("div", { class: "held" }, jobs.map((j) => h("a", { href: `#/jobs/${encodeURIComponent(j.id)}`, class: "mono", title: j.runbook }, `${j.id.slice(0, 8)} `))) : null),
    h("td", { class: "muted" }, `${w.host} pid ${w.pid}`),
    drain ? h("td", {}, w.alive && !w.draining ? h("button", { onclick: drain, "data-drain": w.name }, "Drain") : "") : null,
  );
}

/** One square per slot, coloured by its owner; hovering names the slot and the owner. */
function drawSlots(el, owners) {
  const names = [...new Set(owners.filter(Boolean))].sort();
  const grid = h("div", { class: "slots", "aria-label": `${owners.length} slots` });
  owners.forEach((owner, slot) => {
    const cell = h("span", { class: "slot", title: `slot ${slot}: ${owner ?? "no live owner"}`, "data-owner": owner ?? "" });
    if (owner) cell.style.background = colorOf(owner).style.background;
    grid.append(cell);
  });
  const legend = h(
    "p",
    { class: "legend" },
    names.map((n) => [colorOf(n), ` ${n}: ${owners.filter((o) => o === n).length} slots   `]),
    owners.some((o) => !o) ? [h("span", { class: "slot" }), ` no live owner: ${owners.filter((o) => !o).length}`] : null,
  );
  fill(el, grid, legend);
}

/**
 * A colour per worker: the first ten names (sorted) get ten distinct colours, more get a hue from
 * a hash of the name. The same set of workers always gets the same colours.
 */
const PALETTE = ["#2458d6", "#e07b24", "#1f8a4c", "#c62f2f", "#6b46c1", "#0f8b8d", "#b7791f", "#d53f8c", "#4a5568", "#7cb342"];
let colours = new Map();

function assignColours(names) {
  colours = new Map(names.map((n, i) => [n, PALETTE[i] ?? `hsl(${hashOf(n) % 360} 60% 50%)`]));
}

function hashOf(name) {
  let hash = 2166136261; // FNV-1a
  for (const ch of name) hash = Math.imul(hash ^ ch.codePointAt(0), 16777619) >>> 0;
  return hash;
}

function colorOf(name) {
  const dot = h("span", { class: "dot" });
  dot.style.background = colours.get(name) ?? `hsl(${hashOf(name) % 360} 60% 50%)`;
  return dot;
}

/** Admins: replace the deployment with a list of worker names (online; jobs hand over at checkpoints). */
function deployEditor(notice, done) {
  const names = h("input", { id: "deploy-workers", size: 50, placeholder: "worker names, comma-separated" });
  let touched = false;
  names.addEventListener("input", () => (touched = true));
  const form = h(
    "form",
    {
      class: "card inline",
      onsubmit: async (e) => {
        e.preventDefault();
        const workers = names.value.split(",").map((s) => s.trim()).filter(Boolean);
        if (!confirm(`Deploy exactly these workers: ${workers.join(", ")}?`)) return;
        try {
          await api("PUT", "/api/deployment", { workers });
          notice.className = "notice";
          fill(notice, `deployed: ${workers.join(", ")}`);
          touched = false;
        } catch (err) {
          notice.className = "notice error";
          fill(notice, `deploy: ${err.message}`);
        }
        await done();
      },
    },
    h("label", { for: "deploy-workers" }, "Deploy "),
    names,
    h("button", { type: "submit" }, "Deploy"),
  );
  return { form, suggest: (current) => !touched && document.activeElement !== names && (names.value = current.join(", ")) };
}
