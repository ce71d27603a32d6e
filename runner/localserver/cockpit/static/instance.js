// One task instance (GET /local/api/cockpit/tasks/{id}) in a modal dialog: its
// statuses in order with their times, the inputs the task receives, its outputs or
// error, its log as its runner sent it, and which runner and container ran it, with
// the runner's times beside the server's when they differ. Opened by #task/<id>;
// it takes the focus and gives it back when it closes (Esc, or its close button).
// From it, once it is read: copy the id, run the task again with the same inputs,
// cancel it; and wrap, copy or download its log (logbox.js).

import * as api from "./api.js";
import { badge, byId, clear, copyText, cut, duration, el, exactly, pairs, valueText } from "./dom.js";
import { logBox } from "./logbox.js";
import { usageOf } from "./usage.js";

// When neither the instance nor its catalog sets a timeout, the runner's own applies
// (runner.core.policy.TaskPolicy.timeout_s, unless the runner is set otherwise).
const RUNNER_TIMEOUT = "none set here: the runner's own limit applies (1 h unless the runner sets another)";

const SHOWN_VALUE_CHARS = 20000; // of each input and output; longer ones are cut, saying so

export class InstanceView {
  constructor({ onClosed, onRunAgain, onCancelled }) {
    this.dialog = byId("instance-view");
    this.id = null;
    this.view = null;
    this.pending = null;
    this.returnTo = null;
    this.onClosed = onClosed;
    this.onRunAgain = onRunAgain;
    this.onCancelled = onCancelled;
    byId("instance-close").addEventListener("click", () => this.close());
    this.dialog.addEventListener("cancel", (event) => {
      event.preventDefault(); // Esc: closed here, so that the URL follows
      this.close();
    });
    this.dialog.addEventListener("keydown", (event) => this.trap(event));
    byId("instance-copy").addEventListener("click", () => this.copy());
    byId("instance-again").addEventListener("click", () => this.again());
    byId("instance-cancel").addEventListener("click", () => this.askCancel(true));
    byId("cancel-no").addEventListener("click", () => this.askCancel(false));
    byId("cancel-yes").addEventListener("click", () => this.cancel());
  }

  async show(id) {
    if (this.id !== id) {
      this.id = id;
      this.view = null;
      byId("instance-title").textContent = "Task instance";
      byId("instance-note").textContent = "";
      this.askCancel(false, false);
      byId("instance-copy").hidden = true; // nothing to copy or run again before it is read
      byId("instance-again").hidden = true;
      byId("instance-cancel").hidden = true;
      clear(byId("instance-body")).append(el("p", { className: "muted", text: "Reading it…" }));
    }
    if (!this.dialog.open) {
      this.returnTo = document.activeElement;
      this.dialog.showModal();
      byId("instance-title").focus();
    }
    await this.refresh();
  }

  // Tab and Shift+Tab go round the dialog's controls, never out of it to the browser.
  trap(event) {
    if (event.key !== "Tab") return;
    const stops = [...this.dialog.querySelectorAll("button, [href], input, select, textarea, [tabindex]")]
      .filter((node) => node.tabIndex >= 0 && !node.disabled && node.getClientRects().length);
    if (!stops.length) return;
    const [first, last] = [stops[0], stops[stops.length - 1]];
    const at = document.activeElement;
    if (event.shiftKey && (at === first || at === byId("instance-title"))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && at === last) {
      event.preventDefault();
      first.focus();
    }
  }

  // Closes the dialog, and says so (the page drops #task/<id> from its URL).
  close() {
    const id = this.id;
    this.hide();
    this.onClosed(id, this.returnTo);
  }

  hide() {
    this.id = null;
    if (this.dialog.open) this.dialog.close();
  }

  // Called with every batch of changed tasks: refreshes when this one is among them.
  changed(tasks) {
    if (!this.id || !tasks.some((task) => task.id === this.id) || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.refresh();
    }, 200);
  }

  // Draws what is shown again (times are shown another way).
  redraw() {
    if (this.view && this.dialog.open) this.render(this.view);
  }

  async refresh() {
    const id = this.id;
    if (!id) return;
    try {
      const view = await api.get(`tasks/${encodeURIComponent(id)}`);
      if (id === this.id) this.render(view);
    } catch (error) {
      if (id !== this.id) return;
      if (this.view && error.unreachable) return; // the outage banner says it; keep what is shown
      clear(byId("instance-body")).append(el("p", { className: "error-text", text: error.status === 404 ? `There is no task instance ${id}.` : error.message }));
    }
  }

  render(view) {
    this.view = view;
    const task = view.summary;
    byId("instance-title").textContent = `${task.namespace}/${task.name}`;
    byId("instance-copy").hidden = false;
    byId("instance-again").hidden = false;
    byId("instance-cancel").hidden = !cancellable(task);
    if (!cancellable(task)) this.askCancel(false, false);
    clear(byId("instance-body")).append(
      el("div", { className: "instance-head" }, [badge(task.state), task.cancelled && task.state !== "Cancelled" ? el("span", { className: "tag", text: "cancelled" }) : null]),
      facts(view, task),
      section("Inputs", "as the task receives them, defaults filled in", values(view.inputs)),
      section(task.state === "Error" ? "Error" : "Outputs", null, outcome(task)),
      section("Usage", "measured by its runner from its container, beside its limits", usageOf(view.usage)),
      section("Log", "what the task wrote besides its messages, as its runner sent it", logOf(view.log, task.id)),
      section("Statuses", `${view.statuses.length} in the order received`, statusTable(view.statuses)),
    );
  }

  async copy() {
    if (!this.id) return;
    const done = await copyText(this.id);
    byId("instance-note").textContent = done ? `Copied ${this.id}.` : `Could not copy; the id is ${this.id}.`;
  }

  again() {
    if (!this.view) return;
    const task = this.view.summary;
    const inputs = this.view.submittedInputs || {};
    this.close();
    this.onRunAgain(task, inputs);
  }

  askCancel(asking, focus = true) {
    byId("cancel-confirm").hidden = !asking;
    if (!focus) return;
    (asking ? byId("cancel-yes") : byId("instance-cancel")).focus();
  }

  async cancel() {
    const id = this.id;
    byId("cancel-yes").disabled = true;
    try {
      const answer = await api.post(`tasks/${encodeURIComponent(id)}/cancel`);
      this.askCancel(false, false);
      byId("instance-note").textContent = answer.task.state === "Cancelled"
        ? "Cancelled: it will not be handed out."
        : "Cancelled: its runner stops it within a few seconds.";
      this.onCancelled(answer.task);
      byId("instance-title").focus();
      await this.refresh();
    } catch (error) {
      byId("instance-note").textContent = `Not cancelled: ${error.message}.`;
    } finally {
      byId("cancel-yes").disabled = false;
    }
  }
}

function cancellable(task) {
  return (task.state === "Queued" || task.state === "InProgress") && !task.cancelled;
}

function facts(view, task) {
  const run = task.run;
  const lines = {
    "instance id": task.id,
    submitted: exactly(task.createdAt),
    "handed out": task.takenAt ? exactly(task.takenAt) : "not yet",
  };
  if (run && run.startedAt) lines["started (runner)"] = exactly(run.startedAt);
  if (run) lines["ended (runner)"] = exactly(run.endedAt);
  lines[run ? "received (server)" : "ended"] = task.endedAt ? exactly(task.endedAt) : "not yet";
  lines.duration = durations(task);
  if (run) lines["ran on"] = `runner ${run.runnerId}${run.containerId ? `, container ${run.containerId.slice(0, 12)}` : ""}`;
  lines.timeout = view.instance.timeOutInMillis ? duration(view.instance.timeOutInMillis / 1000) : RUNNER_TIMEOUT;
  return pairs(lines, "pairs facts");
}

// The runner's duration, and the server's beside it when it says otherwise.
function durations(task) {
  if (task.durationS === null) return "not ended";
  const received = task.receivedDurationS;
  if (!task.run || received === null || duration(received) === duration(task.durationS)) return duration(task.durationS);
  return `${duration(task.durationS)} as its runner timed it (from the container's start); ${duration(received)} from the hand-out to the server's receipt of its end`;
}

function values(inputs) {
  const cutValues = Object.fromEntries(Object.entries(inputs || {}).map(([k, v]) => [k, cut(valueText(v), SHOWN_VALUE_CHARS)]));
  return Object.keys(cutValues).length ? pairs(cutValues) : el("p", { className: "muted", text: "none" });
}

function outcome(task) {
  if (task.state === "Completed") return Object.keys(task.outputs || {}).length ? values(task.outputs) : el("p", { className: "muted", text: "no outputs" });
  if (task.state === "Error") {
    const level = task.errorLevel ? ` (${task.errorLevel})` : "";
    return el("p", { className: "error-box", text: `${task.message || "failed"}${level}` });
  }
  return el("p", { className: "muted", text: task.state === "Cancelled" ? "none: it was cancelled before a runner took it" : "none yet" });
}

function logOf(log, id) {
  if (!log) return el("p", { className: "muted", text: "None yet: a runner sends a task's log to this server when the task ends." });
  if (!log.lines.length && !log.droppedLines) return el("p", { className: "muted", text: "The task wrote nothing besides its messages." });
  return logBox(log, id);
}

function section(title, note, content) {
  return el("section", { className: "instance-section" }, [
    el("h3", {}, [title, note ? el("small", { className: "muted", text: ` ${note}` }) : null]),
    content,
  ]);
}

function statusTable(statuses) {
  if (!statuses.length) return el("p", { className: "muted", text: "none yet" });
  const rows = statuses.map((status) => {
    const progress = status.progressPercentage;
    const number = progress === null ? null : Number(progress);
    const details = [el("span", { className: "message", text: status.message ?? "" })];
    if (status.outputValues) details.push(el("span", { className: "mono muted", text: ` ${cut(valueText(status.outputValues), 2000)}` }));
    if (status.errorLevel) details.push(el("span", { className: "tag", text: status.errorLevel }));
    return el("tr", { attrs: { "data-seq": status.seq } }, [
      el("td", { className: "mono", text: exactly(status.receivedAt) }),
      el("td", {}, [badge(status.status)]),
      el("td", { className: "num", text: Number.isFinite(number) ? `${Math.round(number * 100)}%` : "" }),
      el("td", { className: "detail" }, details),
    ]);
  });
  return el("table", { className: "statuses" }, [
    el("thead", {}, [el("tr", {}, ["received", "status", "progress", "message"].map((h) => el("th", { text: h, attrs: { scope: "col" } })))]),
    el("tbody", {}, rows),
  ]);
}

