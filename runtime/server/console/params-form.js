// A start form generated from a runbook's declared parameters (ParamInfo: name, type as
// written, typeData as compiler/types.ts's Type, hasDefault). One field per parameter, by type:
//   string → text   number → number   bool → yes/no   duration → text ("1h30m")
//   time → date and time   optional T → T's field, empty meaning null
//   list, map, record, any → JSON
// The server checks the values exactly as `runbook start --param` does (runtime/params.ts) and
// its one-line error is shown under the form; the checks here only catch typing slips early.
import { h } from "./dom.js";

/** The field for one parameter, and how to read its value: {skip} when left to its default. */
function field(p) {
  const id = `param-${p.name}`;
  let type = p.typeData;
  const optional = type.kind === "optional";
  if (optional) type = type.inner;
  const required = !p.hasDefault && !optional;
  const hint = p.hasDefault ? "default" : optional ? "null" : "";
  const empty = (raw) => raw === "" && !required;
  const blank = () => (p.hasDefault ? { skip: true } : { value: null });
  switch (type.kind) {
    case "string": {
      const input = h("input", { id, name: p.name, required, placeholder: hint });
      return { input, read: () => (empty(input.value) && (p.hasDefault || optional) ? blank() : { value: input.value }) };
    }
    case "number": {
      const input = h("input", { id, name: p.name, type: "number", step: "any", required, placeholder: hint });
      return { input, read: () => (empty(input.value) ? blank() : { value: Number(input.value) }) };
    }
    case "bool": {
      const input = h("select", { id, name: p.name, required }, required ? null : h("option", { value: "" }, `(${hint})`), h("option", { value: "true" }, "yes"), h("option", { value: "false" }, "no"));
      return { input, read: () => (input.value === "" ? blank() : { value: input.value === "true" }) };
    }
    case "duration": {
      const input = h("input", { id, name: p.name, required, pattern: "(\\d+(\\.\\d+)?(ms|s|m|h|d))+", placeholder: hint || "30s, 10m, 1h30m", title: "a duration like 30s, 10m or 1h30m" });
      return { input, read: () => (empty(input.value) ? blank() : { value: input.value.trim() }) };
    }
    case "time": {
      const input = h("input", { id, name: p.name, type: "datetime-local", step: 1, required });
      return { input, read: () => (empty(input.value) ? blank() : { value: new Date(input.value).toISOString() }) };
    }
    default: {
      // list, map, record, any: JSON, checked here for syntax only.
      const input = h("textarea", { id, name: p.name, rows: 2, cols: 50, required, placeholder: hint || (type.kind === "list" ? '["a", "b"]' : "JSON") });
      return {
        input,
        read: () => {
          if (empty(input.value.trim())) return blank();
          try {
            input.setCustomValidity("");
            return { value: JSON.parse(input.value) };
          } catch {
            // `any` also takes plain text, as the CLI's --param does.
            if (type.kind === "any") return { value: input.value };
            input.setCustomValidity("not valid JSON");
            input.reportValidity();
            return { invalid: true };
          }
        },
      };
    }
  }
}

/**
 * The form; `submit(params)` gets the parameters as JSON values (a parameter left empty that
 * has a default is left out) and may throw an Error whose message is shown.
 */
export function paramsForm(params, submit) {
  const fields = params.map((p) => ({ p, ...field(p) }));
  const error = h("p", { class: "error", role: "alert", id: "start-error" });
  const button = h("button", { type: "submit", id: "start-job" }, "Start job");
  return h(
    "form",
    {
      id: "start-form",
      class: "card",
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = "";
        const values = {};
        for (const f of fields) {
          const r = f.read();
          if (r.invalid) return;
          if (!r.skip) values[f.p.name] = r.value;
        }
        button.disabled = true;
        try {
          await submit(values);
        } catch (err) {
          error.textContent = err.message;
        } finally {
          button.disabled = false;
        }
      },
    },
    params.length === 0 ? h("p", { class: "muted" }, "No parameters.") : null,
    h(
      "div",
      { class: "fields" },
      fields.map((f) => [h("label", { for: f.input.id }, f.p.name, " ", h("span", { class: "type" }, f.p.type)), f.input]),
    ),
    button,
    error,
  );
}
