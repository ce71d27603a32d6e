// The submit form, generated from the published catalog (GET /local/api/cockpit/catalog):
// a task picker and one field per input, with its type, its default (said in its hint,
// never shown as if typed) and "required" when it has none. Each hint and error is tied
// to its field (aria-describedby). The server checks the inputs with the runner's own
// validation and answers 400 with each problem placed on its input; nothing is queued
// then. The page does not guess: the server's answer is the authority.

import * as api from "./api.js";
import { byId, clear, el, shortId, valueText } from "./dom.js";

export class SubmitForm {
  constructor({ onQueued, onOpen, onCatalog }) {
    this.form = byId("submit-form");
    this.picker = byId("task-picker");
    this.definitions = [];
    this.catalogText = "";
    this.fields = [];
    this.onQueued = onQueued;
    this.onOpen = onOpen;
    this.onCatalog = onCatalog;
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
    this.onCatalog(tasks);
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
    const again = chosen ? this.indexOf(chosen.namespace, chosen.name) : -1;
    if (again >= 0) this.picker.value = String(again);
    if (!chosen || again < 0 || JSON.stringify(tasks[again]) !== JSON.stringify(chosen)) this.renderFields();
    byId("submit-button").disabled = tasks.length === 0;
    if (!tasks.length) byId("task-description").textContent = "No catalog published yet: start a runner.";
  }

  indexOf(namespace, name) {
    return this.definitions.findIndex((d) => d.namespace === namespace && d.name === name);
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
    byId("form-note").textContent = "";
    if (!definition) return;
    byId("task-description").textContent = definition.description || definition.shortDescription || "";
    (definition.inputs || []).forEach((input, index) => {
      const field = makeField(input, index);
      this.fields.push(field);
      box.append(field.node);
    });
    if (!this.fields.length) box.append(el("p", { className: "muted", text: "This task takes no input." }));
  }

  // "Run again": the form for `task`, filled in with the inputs it was submitted with.
  fill(task, inputs) {
    const index = this.indexOf(task.namespace, task.name);
    if (index < 0) {
      byId("form-note").textContent = `${task.namespace}/${task.name} is not in the published catalog: it cannot be submitted here.`;
      byId("submit-title").focus();
      return;
    }
    this.picker.value = String(index);
    this.renderFields();
    for (const field of this.fields) {
      if (!(field.name in inputs)) continue;
      const value = inputs[field.name];
      field.control.value = field.json || typeof value !== "string" ? valueText(value) : value;
    }
    byId("form-note").textContent = `Filled in with the inputs of ${task.namespace}/${task.name} ${shortId(task.id)}: change what you like, then queue it.`;
    byId("submit-title").scrollIntoView({ block: "start" });
    (this.fields[0] ? this.fields[0].control : this.picker).focus();
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
      attrs: { type: "button", "data-id": answer.instance.id, "aria-label": `open task instance ${answer.instance.id}` },
    });
    link.addEventListener("click", () => this.onOpen(answer.instance.id));
    result.append(`Queued ${answer.task.namespace}/${answer.task.name} as `, link);
    byId("form-note").textContent = "";
    this.onQueued(answer.task);
  }

  refused(error) {
    if (error.unreachable) {
      byId("form-error").textContent = `Nothing was queued: ${error.message}. Try again once it is back.`;
      this.unreached = true;
      return;
    }
    const problems = (error.body && error.body.problems) || [];
    const general = [];
    for (const problem of problems) {
      const field = this.fields.find((f) => f.name === problem.input);
      if (!field) {
        general.push(problem.message);
        continue;
      }
      const said = field.error.textContent ? field.error.textContent.split("; ") : [];
      if (!said.includes(problem.message)) field.error.textContent = [...said, problem.message].join("; ");
      field.control.setAttribute("aria-invalid", "true");
    }
    if (!problems.length) general.push(error.message);
    byId("form-error").textContent = general.length ? `Nothing was queued: ${general.join("; ")}` : "Nothing was queued: see the fields above.";
    // The first field in error on the form, whichever the server named first.
    const first = this.fields.find((f) => f.control.getAttribute("aria-invalid") === "true");
    if (first) first.control.focus();
  }

  // The server is back: "it cannot be reached" is no longer true.
  recovered() {
    if (this.unreached) byId("form-error").textContent = "";
    this.unreached = false;
  }

  clearProblems() {
    this.unreached = false;
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
  control.setAttribute("aria-describedby", `${id}-type ${id}-hint ${id}-error`);
  if (required) {
    control.setAttribute("required", "");
    control.setAttribute("aria-required", "true");
  }
  const label = el("label", { attrs: { for: id } }, [
    el("span", { className: "field-name", text: input.name }),
    required ? el("span", { className: "required-word", text: "required" }) : null,
    el("span", { className: "type", text: typeText(input), attrs: { id: `${id}-type` } }),
  ]);
  const hints = [];
  if (!required) hints.push(`default: ${valueText(input.defaultValue)} (used when left empty)`);
  if (input.description || input.shortDescription) hints.push(input.shortDescription || input.description);
  const error = el("div", { className: "field-error", attrs: { id: `${id}-error`, "data-error-for": input.name } });
  const hint = el("div", { className: "hint", text: hints.join(" · "), attrs: { id: `${id}-hint` } });
  const node = el("div", { className: "field" }, [label, control, hint, error]);
  return { name: input.name, control, error, json, node };
}

function makeControl(input, id, json) {
  const allowed = input.allowedValues && input.allowedValues.length ? input.allowedValues : null;
  const boolean = ["boolean", "bool"].includes(String(input.baseType).toLowerCase());
  if ((allowed || boolean) && !input.allowMultipleValues) {
    const select = el("select", { attrs: { id } });
    select.append(el("option", { text: input.defaultValue != null ? `(the default: ${valueText(input.defaultValue)})` : "(choose one)", attrs: { value: "" } }));
    for (const value of allowed || ["true", "false"]) select.append(el("option", { text: value, attrs: { value } }));
    return select;
  }
  if (json) return el("textarea", { attrs: { id, rows: 2, spellcheck: "false" } });
  const numeric = ["integer", "int", "long", "short", "number", "double", "float", "decimal"].includes(String(input.baseType).toLowerCase());
  return el("input", { attrs: { id, type: "text", autocomplete: "off", inputmode: numeric ? "decimal" : null } });
}

// JSON when it parses; else the text as typed, which the server then names as wrong.
function parsedOrText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
