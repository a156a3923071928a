// Runbooks: every published runbook (GET /api/runbooks); one runbook's page shows its current
// version's start form (generated from the parameter types; operators only) and the source of
// each published version (GET /api/runbooks/:name/versions/:hash).
import { allows, api } from "../api.js";
import { fill, h, table } from "../dom.js";
import { paramsForm } from "../params-form.js";
import { ago } from "../time.js";

export function runbooksPage(view, { me, arg: name }) {
  const body = h("div");
  fill(view, name ? h("p", {}, h("a", { href: "#/runbooks" }, "← Runbooks")) : null, h("h1", {}, name ?? "Runbooks"), body);
  api("GET", "/api/runbooks")
    .then((all) => {
      if (!name) return listAll(body, all);
      const rb = all.find((r) => r.name === name);
      if (!rb) return fill(body, h("p", { class: "error" }, `No runbook ${name} is published.`));
      showRunbook(body, rb, me);
    })
    .catch((e) => fill(body, h("p", { class: "error" }, e.message)));
}

function listAll(el, all) {
  if (all.length === 0) {
    fill(el, h("p", { class: "muted" }, "Nothing is published yet: ", h("code", {}, "runbook publish runbooks/")));
    return;
  }
  fill(
    el,
    table(
      ["runbook", "parameters", "current version", "published", "versions"],
      all.map((rb) =>
        h(
          "tr",
          { "data-runbook": rb.name },
          h("td", {}, h("a", { href: `#/runbooks/${encodeURIComponent(rb.name)}` }, rb.name)),
          h("td", { class: "mono" }, rb.current.params.map((p) => `${p.name}: ${p.type}${p.hasDefault ? " = …" : ""}`).join(", ")),
          h("td", { class: "mono" }, rb.current.hash.slice(0, 12)),
          h("td", {}, ago(rb.current.published_at)),
          h("td", {}, String(rb.versions.length)),
        ),
      ),
    ),
  );
}

function showRunbook(el, rb, me) {
  const start = allows(me.role, "operator")
    ? paramsForm(rb.current.params, async (params) => {
        const { id } = await api("POST", "/api/jobs", { runbook: rb.name, params });
        location.hash = `#/jobs/${encodeURIComponent(id)}`;
      })
    : h("p", { class: "muted" }, `A ${me.role} token cannot start jobs.`);
  const source = h("div", { id: "runbook-source" });
  const versions = h(
    "ul",
    { class: "versions" },
    rb.versions.map((v) =>
      h(
        "li",
        {},
        h("button", { class: "link mono", "data-hash": v.hash, onclick: () => showSource(source, rb.name, v.hash) }, v.hash.slice(0, 12)),
        " ",
        h("span", { class: "muted" }, "stored ", ago(v.created_at)),
        v.current ? h("strong", {}, " · current") : null,
      ),
    ),
  );
  fill(el, h("h2", {}, "Start a job"), start, h("h2", {}, "Versions"), h("div", { class: "columns" }, versions, source));
  void showSource(source, rb.name, rb.current.hash);
}

async function showSource(el, name, hash) {
  fill(el, h("p", { class: "muted" }, "Loading…"));
  try {
    const v = await api("GET", `/api/runbooks/${encodeURIComponent(name)}/versions/${encodeURIComponent(hash)}`);
    fill(
      el,
      h("h3", {}, "Version ", h("span", { class: "mono" }, hash.slice(0, 12))),
      Object.entries(v.modules).map(([runbook, m]) => [
        h("h4", {}, runbook, " ", h("span", { class: "muted" }, m.file)),
        m.source === null ? h("p", { class: "muted" }, "Its source was not stored (published before the console kept sources).") : h("pre", { class: "source", "data-runbook": runbook }, m.source),
      ]),
    );
  } catch (e) {
    fill(el, h("p", { class: "error" }, e.message));
  }
}
