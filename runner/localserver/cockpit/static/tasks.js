// The task list: the instances of the view (filters.js), in its order, a page at a time
// ("Load more"), kept up to date by long polls of GET /local/api/cockpit/tasks (only what
// changed since the last answer), unless live updates are paused: then the rows stay
// as they are and the page says how many instances changed meanwhile. A page's rows are
// made in one go (rows.js); the first FIRST_ROWS (a screen and more) go into the page at
// once and the others in the next frame, so that the rows in view are drawn without
// waiting for the layout of those below. Below a breakpoint the stylesheet shows each
// row as a card. One row
// at a time is a Tab stop; the arrow keys move between rows, Enter opens one, Space
// selects it (selection.js).

import * as api from "./api.js";
import { byId, count } from "./dom.js";
import { filtering, serverQuery } from "./filters.js";
import { drawRow, retime } from "./rows.js";
import { countShown, rowsDrawn } from "./timing.js";

export const PAGE = 200; // rows a page holds; the list holds what was loaded, no more
export const WAIT_S = 20; // below the server's cap of 30 s
const FIRST_ROWS = 30;

export class TaskList {
  constructor({ onChange, onOpen, onTiles, minutes, selection, onWaiting }) {
    this.body = byId("task-rows");
    this.rows = new Map(); // id -> { task, row, key, cursor }
    this.view = { sort: "submitted", order: "desc" };
    this.marks = { after: 0, since: 0, changes: 0 };
    this.next = null; // the cursor of the next page, or null when all are loaded
    this.total = 0;
    this.keep = PAGE; // how many rows the user loaded
    this.offsetMs = 0; // the server's clock minus ours
    this.frozen = false; // the server is out of reach: durations stop counting
    this.generation = 0; // a new load (a new view) makes answers to older asks moot
    this.paused = false;
    this.waiting = new Set(); // ids of the instances that changed while paused
    this.stale = false; // more changed while paused than an answer holds
    this.pending = null; // rows made but not in the page yet: { rows, timer }
    this.onChange = onChange;
    this.onOpen = onOpen;
    this.onTiles = onTiles;
    this.onWaiting = onWaiting;
    this.minutes = minutes;
    this.selection = selection;
    this.body.addEventListener("click", (event) => this.click(event));
    this.body.addEventListener("keydown", (event) => this.key(event));
    byId("load-more").addEventListener("click", () => this.loadMore().catch((error) => this.failed(error)));
    setInterval(() => this.tick(), 1000);
  }

  serverNow() {
    return Date.now() + this.offsetMs;
  }

  query() {
    return { ...serverQuery(this.view, this.serverNow()), minutes: this.minutes() };
  }

  async load() {
    const generation = ++this.generation;
    const answer = await api.get("tasks", { ...this.query(), limit: PAGE });
    if (generation !== this.generation) return;
    this.keep = PAGE;
    this.rows.clear();
    this.mark(answer);
    this.next = answer.next;
    this.total = answer.total;
    this.waiting.clear();
    this.stale = false;
    byId("list-error").textContent = "";
    this.flush(false);
    const rows = this.page(answer.tasks);
    this.body.replaceChildren(...rows.slice(0, FIRST_ROWS));
    this.drawn();
    rowsDrawn(rows.length <= FIRST_ROWS);
    countShown();
    if (rows.length > FIRST_ROWS) this.later(rows.slice(FIRST_ROWS));
  }

  // Rows to put in the page after the next frame is painted.
  later(rows) {
    const pending = { rows, timer: null };
    pending.timer = requestAnimationFrame(() => setTimeout(() => {
      if (this.pending !== pending) return;
      this.flush(true);
      rowsDrawn(true);
    }, 0));
    this.pending = pending;
  }

  // The rows still waiting go into the page now (`keep`), or are dropped.
  flush(keep = true) {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    cancelAnimationFrame(pending.timer);
    if (keep) this.body.append(...pending.rows);
  }

  async loadMore() {
    if (this.next === null) return;
    const generation = this.generation;
    const answer = await api.get("tasks", { ...this.query(), limit: PAGE, cursor: this.next });
    if (generation !== this.generation) return;
    this.flush();
    this.keep = this.rows.size + PAGE;
    this.next = answer.next;
    this.total = answer.total;
    this.body.append(...this.page(answer.tasks));
    this.drawn();
  }

  // The rows of a page the user asked for (those already shown are left).
  page(tasks) {
    const rows = [];
    const now = this.serverNow();
    for (const task of tasks) {
      if (this.rows.has(task.id)) continue;
      const row = drawRow(task, now, this.selection.has(task.id));
      this.rows.set(task.id, { task, row, key: task.key, cursor: task.cursor });
      rows.push(row);
    }
    return rows;
  }

  // One long poll, waiting up to `waitS` for a change; whether anything changed.
  async follow(waitS = WAIT_S) {
    const generation = this.generation;
    const answer = await api.get("tasks", { ...this.query(), ...this.marks, waitSeconds: waitS, limit: PAGE });
    if (generation !== this.generation) return true; // the view changed meanwhile
    if (answer.reset || (answer.more && !this.paused)) {
      await this.load();
      return true;
    }
    this.mark(answer);
    if (answer.total !== null) this.total = answer.total;
    const changed = answer.tasks.length > 0 || answer.gone.length > 0;
    if (this.paused) {
      this.stale = this.stale || answer.more;
      for (const id of [...answer.gone, ...answer.tasks.map((task) => task.id)]) this.waiting.add(id);
      this.onWaiting(this.waiting.size, this.stale);
    } else {
      for (const id of answer.gone) this.remove(id);
      this.apply(answer.tasks);
    }
    this.showCount();
    return changed;
  }

  // Live updates stop (the rows stay as they are) or start again (with what changed).
  async pause(paused) {
    this.paused = paused;
    if (!paused && (this.waiting.size || this.stale)) await this.load();
  }

  mark(answer) {
    this.marks = {
      after: Math.max(this.marks.after, answer.last),
      since: Math.max(this.marks.since, answer.lastInstance),
      changes: Math.max(this.marks.changes, answer.lastChange),
    };
    this.offsetMs = Date.parse(answer.now) - Date.now();
    this.onTiles(answer.tiles);
  }

  // Shows changed task lines where they fall among the rows loaded (a reply to a submit or
  // a cancel too); while paused they wait.
  apply(tasks) {
    if (this.paused) {
      for (const task of tasks) this.waiting.add(task.id);
      this.onWaiting(this.waiting.size, this.stale);
      return;
    }
    this.flush();
    for (const task of tasks) this.put(task);
    while (this.rows.size > this.keep) {
      this.remove(this.body.lastElementChild.dataset.id);
      this.next = this.rows.get(this.body.lastElementChild.dataset.id).cursor;
    }
    this.drawn();
    if (tasks.length) this.onChange(tasks);
  }

  // The rows changed: the Tab stop, the words when there are none, the count, the selection.
  drawn() {
    if (!this.body.querySelector("tr[tabindex='0']") && this.body.firstElementChild) this.body.firstElementChild.tabIndex = 0;
    byId("empty").hidden = this.rows.size > 0;
    byId("empty").textContent = filtering(this.view) ? "No task instance passes these filters." : "No task instance yet: submit one.";
    this.showCount();
    this.selection.shown(this.rows.size, this.total);
  }

  showCount() {
    const shown = `${count(this.rows.size)} of ${count(this.total)}`;
    byId("list-count").textContent = filtering(this.view) ? `${shown} that pass the filters` : shown;
    const more = byId("load-more");
    more.hidden = this.next === null;
    more.textContent = `Load ${count(Math.min(PAGE, Math.max(0, this.total - this.rows.size)) || PAGE)} more`;
    byId("empty").hidden = this.rows.size > 0;
  }

  // Puts a changed task line in its place, if it has one among the rows loaded.
  put(task) {
    const known = this.rows.get(task.id);
    // An answer may be older than one already shown (a submit's reply after a poll's).
    if (known && newness(known.task) > newness(task)) return;
    const key = task.key || (this.view.sort === "submitted" ? [task.ordinal, task.ordinal] : known && known.key);
    if (!key || (!this.belongs(key) && !(known && sameKey(key, known.key)))) {
      if (known && key) this.remove(task.id); // it moved past the rows loaded
      return;
    }
    const row = drawRow(task, this.serverNow(), this.selection.has(task.id));
    const entry = { task, row, key, cursor: task.cursor ?? (known ? known.cursor : task.ordinal) };
    if (known && sameKey(key, known.key)) {
      if (known.row.tabIndex === 0) row.tabIndex = 0;
      const focused = document.activeElement === known.row;
      known.row.replaceWith(row);
      if (focused) row.focus();
    } else {
      if (known) this.remove(task.id);
      this.insert(row, key);
    }
    this.rows.set(task.id, entry);
  }

  // Whether a line with this key falls among the rows loaded (not on a page not loaded yet).
  belongs(key) {
    const last = this.body.lastElementChild;
    if (this.next === null || !last) return true;
    return this.before(key, this.rows.get(last.dataset.id).key);
  }

  // Whether a line with key `a` comes before one with key `b` in the view's order.
  before(a, b) {
    const order = compare(a[0], b[0]) || compare(a[1], b[1]);
    return this.view.order === "asc" ? order < 0 : order > 0;
  }

  remove(id) {
    const known = this.rows.get(id);
    if (!known) return;
    if (known.row.tabIndex === 0 && known.row.nextElementSibling) known.row.nextElementSibling.tabIndex = 0;
    known.row.remove();
    this.rows.delete(id);
  }

  insert(row, key) {
    for (const other of this.body.children) {
      if (this.before(key, this.rows.get(other.dataset.id).key)) {
        this.body.insertBefore(row, other);
        return;
      }
    }
    this.body.append(row);
  }

  click(event) {
    const row = event.target.closest("tr[data-id]");
    if (!row) return;
    if (event.target.closest("input[type=checkbox]")) {
      this.selection.toggle(row.dataset.id, event.target.checked);
      return;
    }
    if (event.target.closest("button") || event.target.closest(".pick")) return;
    this.activate(row, false);
    this.onOpen(row.dataset.id);
  }

  key(event) {
    const row = event.target.closest("tr[data-id]");
    if (!row) return;
    this.flush();
    const rows = [...this.body.children];
    const at = rows.indexOf(row);
    const moves = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: rows.length - 1, PageDown: at + 10, PageUp: at - 10 };
    if (event.key in moves) {
      event.preventDefault();
      this.activate(rows[Math.max(0, Math.min(rows.length - 1, moves[event.key]))], true);
    } else if (event.key === "Enter") {
      event.preventDefault();
      this.onOpen(row.dataset.id);
    } else if (event.key === " ") {
      event.preventDefault();
      this.selection.toggle(row.dataset.id, !this.selection.has(row.dataset.id));
    }
  }

  // Draws the rows' checkboxes as the selection has them.
  checked() {
    for (const { row, task } of this.rows.values()) row.cells[0].firstChild.firstChild.checked = this.selection.has(task.id);
  }

  // Makes `row` the list's one Tab stop (and focuses it when `focus`).
  activate(row, focus) {
    for (const other of this.body.querySelectorAll("tr[tabindex='0']")) other.tabIndex = -1;
    row.tabIndex = 0;
    if (focus) row.focus();
  }

  // Focuses the row of `id` (null: the row that is the list's Tab stop); whether there is one.
  focusRow(id) {
    this.flush();
    const row = id === null ? this.body.querySelector("tr[tabindex='0']") : this.rows.get(id)?.row;
    if (row) this.activate(row, true);
    return Boolean(row);
  }

  // Every second: durations that count, and relative times (all times, after a new choice).
  tick(all = false) {
    if (this.frozen && !all) return;
    const now = this.serverNow();
    for (const { task, row } of this.rows.values()) retime(row, task, now);
  }

  failed(error) {
    byId("list-error").textContent = `The list could not be read: ${error.message}.`;
  }
}

// How far along what a task line says is: its last status, then whether it was handed out,
// then whether its runner's log (its own times) came in.
function newness(task) {
  return ((task.seq ?? -1) * 2 + (task.state === "Queued" ? 0 : 1)) * 2 + (task.run ? 1 : 0);
}

function compare(a, b) {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function sameKey(a, b) {
  return Boolean(a && b) && a[0] === b[0] && a[1] === b[1];
}
