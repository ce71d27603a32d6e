// One task instance (GET /local/api/cockpit/tasks/{id}): its statuses in order with
// their times, the inputs the task receives and its outputs. Opened by #task/<id>.

import * as api from "./api.js";
import { badge, byId, clear, clock, duration, el, pairs, valueText } from "./dom.js";

export class InstanceView {
  constructor() {
    this.panel = byId("instance-view");
    this.id = null;
    this.pending = null;
    byId("instance-close").addEventListener("click", () => {
      window.location.hash = "";
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.id) window.location.hash = "";
    });
  }

  async show(id) {
    this.id = id;
    this.panel.hidden = false;
    await this.refresh();
  }

  hide() {
    this.id = null;
    this.panel.hidden = true;
  }

  // Called with every batch of changed tasks: refreshes when this one is among them.
  changed(tasks) {
    if (!this.id || !tasks.some((task) => task.id === this.id) || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.refresh();
    }, 200);
  }

  async refresh() {
    const id = this.id;
    if (!id) return;
    try {
      const view = await api.get(`tasks/${encodeURIComponent(id)}`);
      if (id === this.id) this.render(view);
    } catch (error) {
      if (id !== this.id) return;
      byId("instance-title").textContent = "Task instance";
      clear(byId("instance-body")).append(el("p", { className: "error-text", text: error.message }));
    }
  }

  render(view) {
    const task = view.summary;
    byId("instance-title").textContent = `${task.namespace}/${task.name}`;
    const body = clear(byId("instance-body"));
    body.append(
      el("div", { className: "instance-head" }, [badge(task.state), task.cancelled ? el("span", { className: "tag", text: "cancelled" }) : null]),
      facts(view, task),
      section("Inputs", "as the task receives them, defaults filled in", pairs(view.inputs)),
      section("Outputs", null, outcome(task)),
      section("Statuses", `${view.statuses.length} in the order received`, statusTable(view.statuses)),
    );
  }
}

function facts(view, task) {
  return pairs({
    "instance id": task.id,
    submitted: clock(task.createdAt, true),
    "handed out": task.takenAt ? clock(task.takenAt, true) : "not yet",
    ended: task.endedAt ? clock(task.endedAt, true) : "not yet",
    duration: task.durationS !== null ? duration(task.durationS) : "not ended",
    timeout: view.instance.timeOutInMillis ? duration(view.instance.timeOutInMillis / 1000) : "none",
  }, "pairs facts");
}

function outcome(task) {
  if (task.state === "Completed") {
    return Object.keys(task.outputs || {}).length ? pairs(task.outputs, "pairs outputs") : el("p", { className: "muted", text: "no outputs" });
  }
  if (task.state === "Error") {
    const level = task.errorLevel ? ` (${task.errorLevel})` : "";
    return el("p", { className: "error-box", text: `${task.message || "failed"}${level}` });
  }
  return el("p", { className: "muted", text: "none yet" });
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
    if (status.outputValues) details.push(el("span", { className: "mono muted", text: ` ${valueText(status.outputValues)}` }));
    if (status.errorLevel) details.push(el("span", { className: "tag", text: status.errorLevel }));
    return el("tr", { attrs: { "data-seq": status.seq } }, [
      el("td", { className: "mono", text: clock(status.receivedAt, true) }),
      el("td", {}, [badge(status.status)]),
      el("td", { className: "num", text: Number.isFinite(number) ? `${Math.round(number * 100)}%` : "" }),
      el("td", { className: "detail" }, details),
    ]);
  });
  return el("table", { className: "statuses" }, [
    el("thead", {}, [el("tr", {}, ["time", "status", "progress", "message"].map((h) => el("th", { text: h })))]),
    el("tbody", {}, rows),
  ]);
}
