// The task list: the instances that pass the filters, newest (or oldest) first, a
// page at a time ("Load more"), kept up to date by long polls of
// GET /local/api/cockpit/tasks (only what changed since the last answer). Below a
// breakpoint the stylesheet shows each row as a card. One row at a time is a Tab
// stop; the arrow keys move between rows, Enter opens one.

import * as api from "./api.js";
import { badge, byId, clear, count, cut, duration, el, shortId, valueText, when } from "./dom.js";

export const PAGE = 200; // rows a page holds; the list holds what was loaded, no more
export const WAIT_S = 20; // below the server's cap of 30 s
const SHOWN_VALUE_CHARS = 300; // of each output in a row; the instance view shows all

export class TaskList {
  constructor({ onChange, onOpen, onTiles, minutes }) {
    this.body = byId("task-rows");
    this.rows = new Map(); // id -> { task, row }
    this.filters = { order: "newest" };
    this.marks = { after: 0, since: 0, changes: 0 };
    this.next = null; // the cursor of the next page, or null when all are loaded
    this.total = 0;
    this.keep = PAGE; // how many rows the user loaded
    this.offsetMs = 0; // the server's clock minus ours
    this.frozen = false; // the server is out of reach: durations stop counting
    this.generation = 0; // a new load (new filters) makes answers to older asks moot
    this.onChange = onChange;
    this.onOpen = onOpen;
    this.onTiles = onTiles;
    this.minutes = minutes;
    this.body.addEventListener("click", (event) => this.open(event));
    this.body.addEventListener("keydown", (event) => this.key(event));
    byId("load-more").addEventListener("click", () => this.loadMore().catch((error) => this.failed(error)));
    setInterval(() => this.tick(), 1000);
  }

  serverNow() {
    return Date.now() + this.offsetMs;
  }

  query() {
    const { state, namespace, name, q, order } = this.filters;
    return { state, namespace, name, q, order: order === "oldest" ? "oldest" : null, minutes: this.minutes() };
  }

  async load() {
    const generation = ++this.generation;
    const answer = await api.get("tasks", { ...this.query(), limit: PAGE });
    if (generation !== this.generation) return;
    this.keep = PAGE;
    this.rows.clear();
    clear(this.body);
    this.mark(answer);
    this.next = answer.next;
    this.total = answer.total;
    byId("list-error").textContent = "";
    this.apply(answer.tasks, true);
    this.showCount();
  }

  async loadMore() {
    if (this.next === null) return;
    const generation = this.generation;
    const answer = await api.get("tasks", { ...this.query(), limit: PAGE, cursor: this.next });
    if (generation !== this.generation) return;
    this.keep = this.rows.size + PAGE;
    this.next = answer.next;
    this.total = answer.total;
    this.apply(answer.tasks, true);
    this.showCount();
  }

  // One long poll, waiting up to `waitS` for a change; whether anything changed.
  async follow(waitS = WAIT_S) {
    const generation = this.generation;
    const answer = await api.get("tasks", { ...this.query(), ...this.marks, waitSeconds: waitS, limit: PAGE });
    if (generation !== this.generation) return true; // the filters changed meanwhile
    if (answer.reset || answer.more) {
      await this.load();
      return true;
    }
    this.mark(answer);
    if (answer.total !== null) this.total = answer.total;
    for (const id of answer.gone) this.remove(id);
    this.apply(answer.tasks);
    this.showCount();
    return answer.tasks.length > 0 || answer.gone.length > 0;
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

  // Shows these task lines; `paged`: they are a page the user asked for (else changes,
  // which are shown only where they fall among the rows loaded).
  apply(tasks, paged = false) {
    for (const task of tasks) this.put(task, paged);
    while (this.rows.size > this.keep) {
      const row = this.body.lastElementChild;
      this.rows.delete(row.dataset.id);
      row.remove();
      this.next = Number(this.body.lastElementChild.dataset.ordinal);
    }
    this.roving();
    byId("empty").hidden = this.rows.size > 0;
    byId("empty").textContent = this.filtered() ? "No task instance passes these filters." : "No task instance yet: submit one.";
    if (tasks.length) this.onChange(tasks);
  }

  filtered() {
    const { state, namespace, name, q } = this.filters;
    return Boolean(state || namespace || name || q);
  }

  showCount() {
    const shown = `${count(this.rows.size)} of ${count(this.total)}`;
    byId("list-count").textContent = this.filtered() ? `${shown} that pass the filters` : shown;
    const more = byId("load-more");
    more.hidden = this.next === null;
    more.textContent = `Load ${count(Math.min(PAGE, Math.max(0, this.total - this.rows.size)) || PAGE)} more`;
    byId("empty").hidden = this.rows.size > 0;
  }

  // Puts a task line in its place; `paged`: it came with a page the user asked for.
  put(task, paged) {
    const known = this.rows.get(task.id);
    // An answer may be older than one already shown (a submit's reply after a poll's).
    if (known && newness(known.task) > newness(task)) return;
    if (!known && !paged && !this.belongs(task)) return;
    const row = this.render(task);
    if (known) {
      if (known.row.tabIndex === 0) row.tabIndex = 0;
      const focused = document.activeElement === known.row;
      known.row.replaceWith(row);
      if (focused) row.focus();
    } else {
      this.insert(row, task.ordinal);
    }
    this.rows.set(task.id, { task, row });
  }

  // Whether a new line falls among the rows loaded (not on a page not loaded yet).
  belongs(task) {
    const last = this.body.lastElementChild;
    if (this.next === null || !last) return true;
    const ordinal = Number(last.dataset.ordinal);
    return this.filters.order === "oldest" ? task.ordinal < ordinal : task.ordinal > ordinal;
  }

  remove(id) {
    const known = this.rows.get(id);
    if (!known) return;
    known.row.remove();
    this.rows.delete(id);
  }

  insert(row, ordinal) {
    const oldest = this.filters.order === "oldest";
    for (const other of this.body.children) {
      const there = Number(other.dataset.ordinal);
      if (oldest ? there > ordinal : there < ordinal) {
        this.body.insertBefore(row, other);
        return;
      }
    }
    this.body.append(row);
  }

  open(event) {
    if (event.target.closest("button")) return;
    const row = event.target.closest("tr[data-id]");
    if (!row) return;
    this.activate(row, false);
    this.onOpen(row.dataset.id);
  }

  key(event) {
    const row = event.target.closest("tr[data-id]");
    if (!row) return;
    const rows = [...this.body.children];
    const at = rows.indexOf(row);
    const moves = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: rows.length - 1, PageDown: at + 10, PageUp: at - 10 };
    if (event.key in moves) {
      event.preventDefault();
      this.activate(rows[Math.max(0, Math.min(rows.length - 1, moves[event.key]))], true);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.onOpen(row.dataset.id);
    }
  }

  // Makes `row` the list's one Tab stop (and focuses it when `focus`).
  activate(row, focus) {
    for (const other of this.body.querySelectorAll("tr[tabindex='0']")) other.tabIndex = -1;
    row.tabIndex = 0;
    if (focus) row.focus();
  }

  roving() {
    if (!this.body.querySelector("tr[tabindex='0']") && this.body.firstElementChild) this.body.firstElementChild.tabIndex = 0;
  }

  focusRow(id) {
    const known = this.rows.get(id);
    if (known) this.activate(known.row, true);
    return Boolean(known);
  }

  render(task) {
    const row = el("tr", {
      className: `task-row state-${task.state.toLowerCase()}`,
      attrs: { "data-id": task.id, "data-ordinal": task.ordinal, "data-state": task.state, "data-timed": task.run ? "true" : null, tabindex: -1 },
    });
    const tag = task.cancelled && task.state !== "Cancelled"
      ? el("span", { className: "tag", text: task.state === "InProgress" ? "cancelling" : "cancelled" })
      : null;
    row.append(
      cell("Task", "task-name", [el("span", { className: "ns", text: `${task.namespace}/` }), el("strong", { text: task.name })]),
      cell("Instance", "mono instance", [shortId(task.id)], { title: task.id }),
      cell("State", "", [badge(task.state), tag]),
      cell("Progress", "progress-cell", [progressBar(task)]),
      cell("Details", "detail", [detail(task)]),
      cell("Duration", "num duration", [this.elapsed(task)]),
      cell("Submitted", "muted submitted", [when(task.createdAt)], { title: task.createdAt }),
    );
    return row;
  }

  elapsed(task) {
    if (task.durationS !== null) return duration(task.durationS);
    if (task.state === "Cancelled") return "";
    const since = task.state === "Queued" ? task.createdAt : task.takenAt;
    if (!since) return "";
    const text = duration(Math.max(0, (this.serverNow() - Date.parse(since)) / 1000));
    return task.state === "Queued" ? `waiting ${text}` : text;
  }

  tick() {
    if (this.frozen) return;
    for (const { task, row } of this.rows.values()) {
      if (task.durationS === null) row.querySelector(".duration .cell").textContent = this.elapsed(task);
    }
  }

  failed(error) {
    byId("list-error").textContent = `The list could not be read: ${error.message}.`;
  }
}

// One cell of a row: its content in one box (a card on phones shows its label beside it).
function cell(label, className, children, attrs = {}) {
  return el("td", { className, attrs: { "data-label": label, ...attrs } }, [el("span", { className: "cell" }, children)]);
}

// How far along what a task line says is: its last status, then whether it was handed out,
// then whether its runner's log (its own times) came in.
function newness(task) {
  return ((task.seq ?? -1) * 2 + (task.state === "Queued" ? 0 : 1)) * 2 + (task.run ? 1 : 0);
}

function progressBar(task) {
  const known = task.progress !== null && task.progress !== undefined;
  const percent = known ? Math.round(task.progress * 100) : 0;
  const fill = el("div", { className: "fill" });
  fill.style.width = `${percent}%`;
  const bar = el(
    "div",
    {
      className: `bar ${known ? "" : "unknown"} ${task.state.toLowerCase()}`,
      attrs: {
        role: "progressbar",
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        "aria-valuenow": known ? percent : null,
        "aria-label": `progress of ${task.namespace}/${task.name}`,
      },
    },
    [fill],
  );
  return el("div", { className: "progress" }, [bar, el("span", { className: "pct", text: known ? `${percent}%` : "" })]);
}

function detail(task) {
  if (task.state === "Error") return el("span", { className: "error-text", text: cut(task.message || "failed (no message)", SHOWN_VALUE_CHARS * 2) });
  if (task.state === "Completed") {
    const parts = el("span", { className: "outputs" });
    for (const [name, value] of Object.entries(task.outputs || {})) {
      const text = valueText(value);
      parts.append(el("span", { className: "chip", attrs: { title: cut(text, 2000) } }, [
        el("span", { className: "chip-name", text: name }),
        el("span", { className: "chip-value", text: cut(text, SHOWN_VALUE_CHARS) }),
      ]));
    }
    if (task.message) parts.append(el("span", { className: "muted", text: cut(task.message, SHOWN_VALUE_CHARS) }));
    if (!parts.childElementCount) parts.append(el("span", { className: "muted", text: "no outputs" }));
    return parts;
  }
  if (task.state === "Cancelled") return el("span", { className: "muted", text: "cancelled before a runner took it" });
  if (task.state === "Queued") return el("span", { className: "muted", text: "waiting for a runner" });
  if (task.message === null) return el("span", { className: "muted", text: "handed out to a runner" });
  return el("span", { className: "message", text: cut(task.message, SHOWN_VALUE_CHARS * 2) });
}
