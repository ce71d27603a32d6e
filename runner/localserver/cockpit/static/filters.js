// The list's filters: a form above it, and the page's URL (`?state=Error&namespace=sample
// &name=double&q=boom&order=oldest`), so a filtered list can be bookmarked, shared and
// reloaded. The namespaces and tasks offered are the published catalog's (and any the
// URL names). Typing in the search waits for a pause before it asks the server.

import { byId, el } from "./dom.js";

const FIELDS = { state: "filter-state", namespace: "filter-namespace", name: "filter-task", q: "filter-q", order: "filter-order" };
const TYPING_MS = 300;

export class Filters {
  constructor({ onChange }) {
    this.onChange = onChange;
    this.catalog = [];
    this.timer = null;
    this.values = fromUrl();
    for (const [name, id] of Object.entries(FIELDS)) {
      const control = byId(id);
      control.addEventListener(name === "q" ? "input" : "change", () => (name === "q" ? this.typed() : this.changed(name)));
    }
    byId("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      this.changed("q");
    });
    byId("filter-clear").addEventListener("click", () => {
      this.values = { order: this.values.order };
      this.show();
      this.changed(null);
    });
    this.show();
  }

  // The catalog's tasks, for the namespace and task pickers.
  useCatalog(tasks) {
    this.catalog = tasks;
    this.show();
  }

  typed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed("q"), TYPING_MS);
  }

  changed(name) {
    clearTimeout(this.timer);
    this.values = this.read();
    if (name === "namespace") this.values.name = "";
    this.show();
    toUrl(this.values);
    this.onChange(this.current());
  }

  current() {
    const values = {};
    for (const name of Object.keys(FIELDS)) if (this.values[name]) values[name] = this.values[name];
    return { ...values, order: values.order || "newest" };
  }

  read() {
    const values = {};
    for (const [name, id] of Object.entries(FIELDS)) values[name] = byId(id).value.trim();
    return values;
  }

  show() {
    const { namespace = "" } = this.values;
    const namespaces = [...new Set(this.catalog.map((d) => d.namespace))].sort();
    options(byId("filter-namespace"), "any namespace", namespaces, namespace);
    const names = this.catalog.filter((d) => !namespace || d.namespace === namespace).map((d) => d.name);
    options(byId("filter-task"), "any task", [...new Set(names)].sort(), this.values.name || "");
    byId("filter-state").value = this.values.state || "";
    byId("filter-order").value = this.values.order === "oldest" ? "oldest" : "newest";
    if (document.activeElement !== byId("filter-q")) byId("filter-q").value = this.values.q || "";
  }
}

// Replaces a select's options with `values` (keeping `chosen`, even if it is not among them).
function options(select, anyText, values, chosen) {
  const all = chosen && !values.includes(chosen) ? [...values, chosen] : values;
  const wanted = JSON.stringify([anyText, ...all]);
  if (select.dataset.options !== wanted) {
    select.replaceChildren(el("option", { text: anyText, attrs: { value: "" } }), ...all.map((v) => el("option", { text: v, attrs: { value: v } })));
    select.dataset.options = wanted;
  }
  select.value = chosen;
}

function fromUrl() {
  const params = new URLSearchParams(window.location.search);
  const values = {};
  for (const name of Object.keys(FIELDS)) values[name] = params.get(name) || "";
  return values;
}

function toUrl(values) {
  const params = new URLSearchParams();
  for (const name of Object.keys(FIELDS)) {
    if (values[name] && !(name === "order" && values[name] === "newest")) params.set(name, values[name]);
  }
  const query = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}${window.location.hash}`);
}
