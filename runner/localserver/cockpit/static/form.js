// The submit form, generated from the published catalog (GET /local/api/cockpit/catalog):
// a task picker and one field per input, with its type, default and required mark.
// The server checks the inputs with the runner's own validation and answers 400 with
// each problem placed on its input; nothing is queued then. The page does not guess:
// the server's answer is the authority.

import * as api from "./api.js";
import { byId, clear, el, shortId, valueText } from "./dom.js";

export class SubmitForm {
  constructor({ onQueued, onOpen }) {
    this.form = byId("submit-form");
    this.picker = byId("task-picker");
    this.definitions = [];
    this.catalogText = "";
    this.fields = [];
    this.onQueued = onQueued;
    this.onOpen = onOpen;
    this.picker.addEventListener("change", () => this.renderFields());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  // (Re)reads the catalog; the fields are rebuilt only when the chosen task changed.
  async load() {
    const { tasks } = await api.get("catalog");
    const text = JSON.stringify(tasks);
    if (text === this.catalogText) return;
    const chosen = this.chosen();
    this.catalogText = text;
    this.definitions = tasks;
    clear(this.picker);
    const groups = new Map();
    tasks.forEach((definition, index) => {
      if (!groups.has(definition.namespace)) {
        const group = el("optgroup", { attrs: { label: definition.namespace } });
        groups.set(definition.namespace, group);
        this.picker.append(group);
      }
      const label = definition.displayName ? `${definition.name} — ${definition.displayName}` : definition.name;
      groups.get(definition.namespace).append(
        el("option", { text: label, attrs: { value: index, "data-task": `${definition.namespace}/${definition.name}` } }),
      );
    });
    const again = chosen ? tasks.findIndex((d) => d.namespace === chosen.namespace && d.name === chosen.name) : -1;
    if (again >= 0) this.picker.value = String(again);
    if (!chosen || again < 0 || JSON.stringify(tasks[again]) !== JSON.stringify(chosen)) this.renderFields();
    byId("submit-button").disabled = tasks.length === 0;
    if (!tasks.length) byId("task-description").textContent = "No catalog published yet: start a runner.";
  }

  chosen() {
    return this.definitions[Number(this.picker.value)] || null;
  }

  renderFields() {
    const definition = this.chosen();
    const box = clear(byId("fields"));
    this.fields = [];
    this.clearProblems();
    byId("form-result").textContent = "";
    if (!definition) return;
    byId("task-description").textContent = definition.description || definition.shortDescription || "";
    (definition.inputs || []).forEach((input, index) => {
      const field = makeField(input, index);
      this.fields.push(field);
      box.append(field.node);
    });
    if (!this.fields.length) box.append(el("p", { className: "muted", text: "This task takes no input." }));
  }

  inputData() {
    const data = {};
    for (const field of this.fields) {
      const text = field.control.value;
      if (text === "") continue; // absent: the runner fills in the default
      data[field.name] = field.json ? parsedOrText(text) : text;
    }
    return data;
  }

  async submit() {
    const definition = this.chosen();
    if (!definition) return;
    const button = byId("submit-button");
    this.clearProblems();
    byId("form-result").textContent = "";
    button.disabled = true;
    try {
      const body = { namespace: definition.namespace, name: definition.name, inputData: this.inputData() };
      const answer = await api.post("submit", body);
      this.queued(answer);
    } catch (error) {
      this.refused(error);
    } finally {
      button.disabled = false;
    }
  }

  queued(answer) {
    const result = clear(byId("form-result"));
    const link = el("button", {
      className: "link",
      text: shortId(answer.instance.id),
      attrs: { type: "button", "data-id": answer.instance.id },
    });
    link.addEventListener("click", () => this.onOpen(answer.instance.id));
    result.append(`Queued ${answer.task.namespace}/${answer.task.name} as `, link);
    this.onQueued(answer.task);
  }

  refused(error) {
    const problems = (error.body && error.body.problems) || [];
    const general = [];
    for (const problem of problems) {
      const field = this.fields.find((f) => f.name === problem.input);
      if (field) {
        field.error.textContent = field.error.textContent ? `${field.error.textContent}; ${problem.message}` : problem.message;
        field.control.setAttribute("aria-invalid", "true");
      } else {
        general.push(problem.message);
      }
    }
    if (!problems.length) general.push(error.message);
    byId("form-error").textContent = general.length ? general.join("; ") : "Nothing was queued: see the fields above.";
  }

  clearProblems() {
    byId("form-error").textContent = "";
    for (const field of this.fields) {
      field.error.textContent = "";
      field.control.removeAttribute("aria-invalid");
    }
  }
}

function typeText(input) {
  const base = input.baseType || "String";
  let text = input.allowMultipleValues ? `list of ${base}` : base;
  if (input.allowedValues && input.allowedValues.length) text += `, one of ${input.allowedValues.join(", ")}`;
  if (input.customRegex) text += `, matching ${input.customRegex}`;
  return text;
}

function makeField(input, index) {
  const id = `input-${index}`;
  const required = input.defaultValue === undefined || input.defaultValue === null;
  const json = Boolean(input.allowMultipleValues) || ["object", "json", "map"].includes(String(input.baseType).toLowerCase());
  const control = makeControl(input, id, json);
  control.setAttribute("data-input", input.name);
  const label = el("label", { attrs: { for: id } }, [
    el("span", { className: "field-name", text: input.name }),
    required ? el("span", { className: "required", text: "*", attrs: { title: "required: it has no default" } }) : null,
    el("span", { className: "type", text: typeText(input) }),
  ]);
  const hints = [];
  if (!required) hints.push(`default: ${valueText(input.defaultValue)}`);
  if (input.description || input.shortDescription) hints.push(input.shortDescription || input.description);
  const error = el("div", { className: "field-error", attrs: { role: "alert", "data-error-for": input.name } });
  const node = el("div", { className: "field" }, [label, control, el("div", { className: "hint", text: hints.join(" · ") }), error]);
  return { name: input.name, control, error, json, node };
}

function makeControl(input, id, json) {
  const allowed = input.allowedValues && input.allowedValues.length ? input.allowedValues : null;
  const boolean = ["boolean", "bool"].includes(String(input.baseType).toLowerCase());
  if ((allowed || boolean) && !input.allowMultipleValues) {
    const select = el("select", { attrs: { id } });
    select.append(el("option", { text: input.defaultValue != null ? `(default: ${valueText(input.defaultValue)})` : "(choose)", attrs: { value: "" } }));
    for (const value of allowed || ["true", "false"]) select.append(el("option", { text: value, attrs: { value } }));
    return select;
  }
  if (json) {
    return el("textarea", { attrs: { id, rows: 2, spellcheck: "false", placeholder: input.allowMultipleValues ? '["a", "b"]' : '{"key": "value"}' } });
  }
  const numeric = ["integer", "int", "long", "short", "number", "double", "float", "decimal"].includes(String(input.baseType).toLowerCase());
  return el("input", {
    attrs: {
      id,
      type: "text",
      autocomplete: "off",
      inputmode: numeric ? "decimal" : null,
      placeholder: input.defaultValue != null ? valueText(input.defaultValue) : "",
    },
  });
}

// JSON when it parses; else the text as typed, which the server then names as wrong.
function parsedOrText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
