// The task list: newest first, one row per task instance, kept up to date by
// long polls of GET /local/api/cockpit/tasks (only what changed since the last answer).

import * as api from "./api.js";
import { badge, byId, clear, clock, duration, el, shortId, valueText } from "./dom.js";

export const MAX_ROWS = 200; // the page stays small however long it is left open
export const WAIT_S = 20; // below the server's cap of 30 s

export class TaskList {
  constructor({ onChange, onOpen }) {
    this.body = byId("task-rows");
    this.rows = new Map(); // id -> { task, row }
    this.last = 0;
    this.lastInstance = 0;
    this.offsetMs = 0; // the server's clock minus ours
    this.onChange = onChange;
    this.onOpen = onOpen;
    this.body.addEventListener("click", (event) => this.open(event));
    this.body.addEventListener("keydown", (event) => {
      if (event.key === "Enter") this.open(event);
    });
    setInterval(() => this.tick(), 1000);
  }

  serverNow() {
    return Date.now() + this.offsetMs;
  }

  async load() {
    const answer = await api.get("tasks", { limit: MAX_ROWS });
    this.rows.clear();
    clear(this.body);
    this.mark(answer);
    this.apply(answer.tasks);
  }

  // One long poll; whether anything changed.
  async next() {
    const answer = await api.get("tasks", {
      after: this.last,
      since: this.lastInstance,
      waitSeconds: WAIT_S,
      limit: MAX_ROWS,
    });
    if (answer.reset) {
      await this.load();
      return true;
    }
    this.mark(answer);
    this.apply(answer.tasks);
    return answer.tasks.length > 0;
  }

  mark(answer) {
    this.last = Math.max(this.last, answer.last);
    this.lastInstance = Math.max(this.lastInstance, answer.lastInstance);
    this.offsetMs = Date.parse(answer.now) - Date.now();
  }

  apply(tasks) {
    for (const task of tasks) this.put(task);
    while (this.body.children.length > MAX_ROWS) {
      const row = this.body.lastElementChild;
      this.rows.delete(row.dataset.id);
      row.remove();
    }
    byId("empty").hidden = this.rows.size > 0;
    if (tasks.length) this.onChange(tasks);
  }

  put(task) {
    const known = this.rows.get(task.id);
    // An answer may be older than one already shown (a submit's reply after a poll's).
    if (known && newness(known.task) > newness(task)) return;
    const row = this.render(task);
    if (known) known.row.replaceWith(row);
    else this.insert(row, task.ordinal);
    this.rows.set(task.id, { task, row });
  }

  insert(row, ordinal) {
    for (const other of this.body.children) {
      if (Number(other.dataset.ordinal) < ordinal) {
        this.body.insertBefore(row, other);
        return;
      }
    }
    this.body.append(row);
  }

  open(event) {
    const row = event.target.closest("tr[data-id]");
    if (row) this.onOpen(row.dataset.id);
  }

  render(task) {
    const row = el("tr", {
      className: `task-row state-${task.state.toLowerCase()}`,
      attrs: { "data-id": task.id, "data-ordinal": task.ordinal, "data-state": task.state, tabindex: 0 },
    });
    const state = el("td", {}, [badge(task.state)]);
    if (task.cancelled) state.append(el("span", { className: "tag", text: "cancelled" }));
    row.append(
      el("td", { className: "task-name" }, [
        el("span", { className: "ns", text: `${task.namespace}/` }),
        el("strong", { text: task.name }),
      ]),
      el("td", { className: "mono", text: shortId(task.id), attrs: { title: task.id } }),
      state,
      el("td", {}, [progressBar(task)]),
      el("td", { className: "detail" }, [detail(task)]),
      el("td", { className: "num duration", text: this.elapsed(task) }),
      el("td", { className: "muted", text: clock(task.createdAt) }),
    );
    return row;
  }

  elapsed(task) {
    if (task.durationS !== null) return duration(task.durationS);
    const since = task.state === "Queued" ? task.createdAt : task.takenAt;
    if (!since) return "";
    const text = duration(Math.max(0, (this.serverNow() - Date.parse(since)) / 1000));
    return task.state === "Queued" ? `waiting ${text}` : text;
  }

  tick() {
    for (const { task, row } of this.rows.values()) {
      if (task.durationS === null) row.querySelector(".duration").textContent = this.elapsed(task);
    }
  }

  counts() {
    const found = { Queued: 0, InProgress: 0 };
    for (const { task } of this.rows.values()) if (task.state in found) found[task.state] += 1;
    return found;
  }
}

// How far along what a task line says is: its last status, then whether it was handed out.
function newness(task) {
  return (task.seq ?? -1) * 2 + (task.state === "Queued" ? 0 : 1);
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
  if (task.state === "Error") {
    const text = task.message || "failed (no message)";
    return el("span", { className: "error-text", text, attrs: { title: text } });
  }
  if (task.state === "Completed") {
    const parts = el("span", { className: "outputs" });
    for (const [name, value] of Object.entries(task.outputs || {})) {
      parts.append(el("span", { className: "chip" }, [
        el("span", { className: "chip-name", text: name }),
        el("span", { className: "chip-value", text: valueText(value) }),
      ]));
    }
    if (task.message) parts.append(el("span", { className: "muted", text: task.message }));
    if (!parts.childElementCount) parts.append(el("span", { className: "muted", text: "no outputs" }));
    return parts;
  }
  if (task.state === "Queued") return el("span", { className: "muted", text: "waiting for a runner" });
  if (task.message === null) return el("span", { className: "muted", text: "handed out to a runner" });
  return el("span", { className: "message", text: task.message, attrs: { title: task.message } });
}
