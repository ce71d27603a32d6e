// Which task instances a bulk action is for: rows picked one by one (their checkbox, or
// Space on a row), every row loaded (the checkbox in the list's heading), or every
// instance that passes the filters, loaded or not ("Select all 1,258 that match"). A new
// view clears it.

import { byId, count } from "./dom.js";
import { serverQuery } from "./filters.js";

export class Selection {
  constructor({ onChange }) {
    this.ids = new Set();
    this.everything = null; // { total, upTo, view } when all that match are selected
    this.list = null; // the TaskList, whose rows show the selection
    this.onChange = onChange;
    byId("select-page").addEventListener("change", (event) => this.pickLoaded(event.target.checked));
    byId("bulk-all").addEventListener("click", () => this.pickAll());
    byId("bulk-clear").addEventListener("click", () => this.clear());
  }

  has(id) {
    return this.everything !== null || this.ids.has(id);
  }

  size() {
    return this.everything ? this.everything.total : this.ids.size;
  }

  toggle(id, on) {
    if (this.everything) this.ids = new Set(this.list.rows.keys()); // from all to the rows picked
    this.everything = null;
    if (on) this.ids.add(id);
    else this.ids.delete(id);
    this.changed();
  }

  pickLoaded(on) {
    this.everything = null;
    this.ids = on ? new Set(this.list.rows.keys()) : new Set();
    this.changed();
  }

  pickAll() {
    const list = this.list;
    this.everything = { total: list.total, upTo: list.marks.since, view: list.view };
    this.changed();
  }

  clear() {
    if (!this.ids.size && !this.everything) return;
    this.ids.clear();
    this.everything = null;
    this.changed();
  }

  changed() {
    this.list.checked();
    this.shown(this.list.rows.size, this.list.total);
    this.onChange();
  }

  // The heading's checkbox and the offer to select all that match, for `loaded` rows of `total`.
  shown(loaded, total) {
    const box = byId("select-page");
    const picked = this.everything ? loaded : [...this.ids].filter((id) => this.list.rows.has(id)).length;
    box.checked = loaded > 0 && picked === loaded;
    box.indeterminate = picked > 0 && picked < loaded;
    const offer = byId("bulk-all");
    offer.hidden = this.everything !== null || !box.checked || total <= loaded;
    offer.textContent = `Select all ${count(total)} that pass the filters`;
    byId("bulk-count").textContent = this.everything
      ? `All ${count(this.everything.total)} that pass the filters are selected.`
      : `${count(this.ids.size)} selected.`;
  }

  // What the server is asked to act on.
  request() {
    if (!this.everything) return { ids: [...this.ids] };
    const match = {};
    const asked = serverQuery(this.everything.view, this.list.serverNow());
    for (const [name, value] of Object.entries(asked)) {
      if (value && name !== "sort" && name !== "order") match[name] = String(value);
    }
    return { match, upTo: this.everything.upTo };
  }
}
