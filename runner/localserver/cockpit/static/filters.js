// What the list shows: its filters, time range and sort, in a form above it and in the
// page's URL (`?state=Error&namespace=sample&q=boom&range=1h&time=ended&sort=duration`),
// so that a view can be bookmarked, shared and reloaded. Every change is a history
// entry (searches typed in a row are one), and Back and Forward walk them. The
// namespaces and tasks offered are the published catalog's (and any the URL names).
// Typing in the search waits for a pause before it asks the server.

import { byId, el } from "./dom.js";
import { RangePicker, rangeQuery } from "./ranges.js";

const FIELDS = { state: "filter-state", namespace: "filter-namespace", name: "filter-task", q: "filter-q", time: "filter-time", range: "filter-range" };
// Every value a view has, in the URL under these names; "" or a default is left out.
const NAMES = ["state", "namespace", "name", "q", "time", "range", "from", "to", "sort", "order", "failure"];
const DEFAULTS = { time: "submitted", sort: "submitted", order: "desc" };
const TYPING_MS = 300;
const ONE_SEARCH_MS = 3000; // searches typed within this of each other are one history entry

export class Filters {
  constructor({ onChange }) {
    this.onChange = onChange;
    this.catalog = [];
    this.timer = null;
    this.lastSearch = 0;
    this.values = fromUrl();
    this.range = new RangePicker({ onChange: () => this.changed("range") });
    for (const [name, id] of Object.entries(FIELDS)) {
      byId(id).addEventListener(name === "q" ? "input" : "change", () => (name === "q" ? this.typed() : this.changed(name)));
    }
    byId("filter-order").addEventListener("change", () => {
      const [sort, order] = byId("filter-order").value.split(" ");
      this.sortBy(sort, order);
    });
    byId("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      this.changed("q");
    });
    byId("filter-clear").addEventListener("click", () => {
      this.values = { sort: this.values.sort, order: this.values.order };
      this.show();
      this.commit(null);
    });
    byId("failure-filter-clear").addEventListener("click", () => this.set({ failure: "" }));
    window.addEventListener("popstate", () => this.walked());
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
    const values = { ...this.values, ...this.read(), ...this.range.read() };
    if (name === "namespace" && values.namespace !== this.values.namespace) values.name = "";
    if (toUrl(values) === toUrl(this.values)) return;
    this.values = values;
    this.show();
    this.commit(name);
  }

  sortBy(sort, order) {
    this.set({ sort, order });
  }

  // Sets some values (a failure group, a sort) as one change.
  set(values) {
    this.values = { ...this.values, ...values };
    this.show();
    this.commit(null);
  }

  // A new history entry for the view (a search typed right after another replaces it).
  commit(name) {
    const url = toUrl(this.values);
    if (url !== currentUrl()) {
      const now = Date.now();
      const same = name === "q" && now - this.lastSearch < ONE_SEARCH_MS;
      window.history[same ? "replaceState" : "pushState"](null, "", url);
      this.lastSearch = name === "q" ? now : 0;
    }
    this.onChange(this.current());
  }

  // Back or Forward: the view of that entry, if it is another.
  walked() {
    const values = fromUrl();
    if (toUrl(values) === toUrl(this.values)) return;
    clearTimeout(this.timer);
    this.values = values;
    this.show(true);
    this.onChange(this.current());
  }

  // The view, with its defaults filled in.
  current() {
    const values = { ...DEFAULTS };
    for (const name of NAMES) if (this.values[name]) values[name] = this.values[name];
    return values;
  }

  read() {
    const values = {};
    for (const [name, id] of Object.entries(FIELDS)) values[name] = byId(id).value.trim();
    return values;
  }

  // Shows the view in the form; a field being typed in keeps what is typed, unless `all`.
  show(all = false) {
    const view = this.current();
    const namespaces = [...new Set(this.catalog.map((d) => d.namespace))].sort();
    options(byId("filter-namespace"), "any namespace", namespaces, this.values.namespace || "");
    const names = this.catalog.filter((d) => !view.namespace || d.namespace === view.namespace).map((d) => d.name);
    options(byId("filter-task"), "any task", [...new Set(names)].sort(), this.values.name || "");
    byId("filter-state").value = this.values.state || "";
    byId("filter-time").value = view.time;
    byId("filter-range").value = this.values.range || "";
    this.range.show(view, all);
    const sorting = `${view.sort} ${view.order}`;
    if ([...byId("filter-order").options].some((o) => o.value === sorting)) byId("filter-order").value = sorting;
    if (all || document.activeElement !== byId("filter-q")) byId("filter-q").value = this.values.q || "";
    byId("failure-filter").hidden = !view.failure;
    for (const th of document.querySelectorAll("#tasks th[data-sort]")) {
      const active = th.dataset.sort === view.sort;
      if (active) th.setAttribute("aria-sort", view.order === "asc" ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
  }
}

// What the server is asked for this view (a preset range's start computed at `nowMs`).
export function serverQuery(view, nowMs = Date.now()) {
  const { state, namespace, name, q, sort, order, failure } = view;
  return { state, namespace, name, q, sort: sort === "submitted" ? null : sort, order: order === "desc" ? null : order, failure, ...rangeQuery(view, nowMs) };
}

// Whether the view filters anything (its sort aside).
export function filtering(view) {
  return Boolean(view.state || view.namespace || view.name || view.q || view.range || view.failure);
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
  for (const name of NAMES) values[name] = params.get(name) || "";
  if (values.order === "oldest") values.order = "asc"; // the words of links made before sorting
  if (values.order === "newest") values.order = "desc";
  return values;
}

function toUrl(values) {
  const params = new URLSearchParams();
  for (const name of NAMES) {
    if (values[name] && values[name] !== DEFAULTS[name]) params.set(name, values[name]);
  }
  const query = params.toString();
  return `${window.location.pathname}${query ? `?${query}` : ""}${window.location.hash}`;
}

function currentUrl() {
  return `${window.location.pathname}${window.location.search}${window.location.hash}`;
}
