// The task types page: every task type that ended a run in the chosen hours, from
// GET /local/api/cockpit/task-types (tasktypes.py): its runs and errors, durations, CPU,
// peak memory against its limit, OOM kills, and the sizing hint with the line to put in
// the runner's configuration file.

import * as api from "./api.js";
import { byId, clear, count, duration, el } from "./dom.js";
import { rememberedTheme } from "./theme.js";
import { bytes, seconds } from "./usage.js";

const HOURS = "xc-task-types-hours";

function quantiles(values, shown) {
  const parts = Object.values(values || {}).map((v) => (v === null || v === undefined ? "–" : shown(v)));
  return parts.join(" / ");
}

function sizingCell(type) {
  const sizing = type.sizing || {};
  const cell = el("td", {}, [
    el("span", { className: `verdict verdict-${sizing.verdict}`, text: sizing.verdict }),
    el("span", { text: sizing.hint || "" }),
  ]);
  if (sizing.memory) {
    const section = `[tasks."${type.namespace}/${type.name}"]\nmemory = "${sizing.memory}"`;
    cell.append(el("code", { className: "section-line", text: section, multiline: true }));
  }
  return cell;
}

function row(type) {
  const errors = type.errors ? `${count(type.errors)} (${(100 * type.errorRate).toFixed(1)} %)` : "0";
  const limit = type.memoryLimitBytes ? bytes(type.memoryLimitBytes) : "–";
  const peak = type.memoryPeakBytes.p95 === null ? "–" : bytes(type.memoryPeakBytes.p95);
  return el("tr", { attrs: { "data-task": `${type.namespace}/${type.name}` } }, [
    el("th", { attrs: { scope: "row" }, text: `${type.namespace}/${type.name}` }),
    el("td", { className: "num", text: count(type.runs) }),
    el("td", { className: "num", text: errors }),
    el("td", { className: "num", text: quantiles(type.durationSeconds, duration) }),
    el("td", { className: "num", text: type.measured ? quantiles(type.cpuSeconds, seconds) : "not measured" }),
    el("td", { className: "num", text: `${peak} / ${limit}` }),
    el("td", { className: `num${type.oomKills ? " error-text" : ""}`, text: count(type.oomKills) }),
    sizingCell(type),
  ]);
}

async function load() {
  const hours = byId("types-hours").value;
  sessionStorage.setItem(HOURS, hours);
  const note = byId("types-note");
  note.textContent = "Reading…";
  try {
    const answer = await api.get("task-types", { hours });
    const body = clear(byId("types-body"));
    for (const type of answer.taskTypes) body.append(row(type));
    note.textContent = answer.taskTypes.length
      ? `${count(answer.runs)} runs of ${count(answer.taskTypes.length)} task types.`
      : "No task ended a run in these hours.";
  } catch (error) {
    note.textContent = error.status === 401
      ? "This server needs its API key: open the cockpit, give the key there, then come back."
      : `Not read: ${error.message}.`;
  }
}

rememberedTheme(); // light or dark, as chosen on the cockpit
byId("types-hours").value = sessionStorage.getItem(HOURS) || "24";
byId("types-form").addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
byId("types-hours").addEventListener("change", load);
load();
