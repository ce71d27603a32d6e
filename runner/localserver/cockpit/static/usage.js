// What a task used, as its runner measured it from its container's cgroup (the `usage` of
// a task instance): shown in the instance view beside the task's limits, and by the task
// types page (task-types.js). Nothing here asks the server.

import { el, pairs } from "./dom.js";

const MIB = 1024 * 1024;

// 41.2 MiB, 512 MiB, 1.5 GiB.
export function bytes(size) {
  if (size === null || size === undefined) return "not measured";
  if (size >= 1024 * MIB) return `${(size / 1024 / MIB).toPrecision(3)} GiB`;
  return size < 100 * MIB ? `${(size / MIB).toPrecision(3)} MiB` : `${Math.round(size / MIB)} MiB`;
}

export function seconds(value) {
  if (value === null || value === undefined) return "not measured";
  return value < 10 ? `${value.toFixed(3)} s` : `${value.toFixed(1)} s`;
}

function share(part, whole) {
  return part !== null && part !== undefined && whole ? ` (${Math.round((100 * part) / whole)} %)` : "";
}

// The instance view's section: each figure beside the limit it was held to.
export function usageOf(usage) {
  if (!usage) return el("p", { className: "muted", text: "Not measured yet: its runner sends it with the task's log when the task ends." });
  const limits = usage.limits || {};
  const lines = {
    CPU: `${seconds(usage.cpuSeconds)}${limits.cpus ? ` on at most ${limits.cpus} CPU${limits.cpus === 1 ? "" : "s"}` : ""}`,
    "peak memory": `${bytes(usage.memoryPeakBytes)}${limits.memoryBytes ? ` of its ${bytes(limits.memoryBytes)} limit${share(usage.memoryPeakBytes, limits.memoryBytes)}` : ""}`,
    "wall time": `${seconds(usage.wallSeconds)}${limits.timeoutSeconds ? ` of its ${seconds(limits.timeoutSeconds)} time limit` : ""}`,
    start: usage.start === "warm" ? "warm: a container started ahead of it (its wait is not counted)" : "cold: a container created for it (its start is counted)",
  };
  if (usage.oomKilled) lines["out of memory"] = "the kernel killed a process of it at its memory limit";
  return pairs(lines, `pairs facts usage${usage.oomKilled ? " oom" : ""}`);
}
