// A small DOM builder. Text always goes in as text nodes (never innerHTML): a job's output, a
// runbook's source or a worker's name can never become markup.

/**
 * h("a", { href: "#/jobs", class: "x", onclick: fn }, "text", child, [more]) → an element.
 * Attributes starting with "on" are listeners; null/undefined/false ones and children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table: headers, then rows of cells (strings or nodes). */
export function table(headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows),
  );
}

/** A status as a coloured badge. */
export function badge(status) {
  return h("span", { class: `badge ${status}`, "data-status": status }, status);
}
