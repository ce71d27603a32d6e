// The chart: tasks ended per interval (Completed and Error, stacked) above each
// task's duration (one dot per task, at the time it ended), over the last minutes,
// from GET /local/api/cockpit/chart. Its intervals are fixed in time (the last one holds
// now), so that nothing moves while nothing new happens. Plain SVG; the tasks' names only ever go in as text.
// The picture is hidden from assistive technology: a text beside it says what it shows.

import { byId, clear, duration, hourMinute, svg } from "./dom.js";

const HEIGHT = 250;
const PAD = { left: 46, right: 12, top: 10 };
const BARS_H = 92;
const GAP = 34;
const DOTS_H = 86;

export function drawChart(data) {
  const box = byId("chart");
  const width = Math.max(200, box.clientWidth || 640);
  const plot = { x: PAD.left, w: width - PAD.left - PAD.right };
  const start = Date.parse(data.buckets[0].start);
  const end = start + data.buckets.length * data.bucketSeconds * 1000;
  const x = (ms) => plot.x + ((ms - start) / (end - start)) * plot.w;
  const root = svg("svg", { viewBox: `0 0 ${width} ${HEIGHT}`, width, height: HEIGHT, class: "chart-svg" });
  const barsTop = PAD.top;
  const dotsTop = PAD.top + BARS_H + GAP;
  drawBars(root, data, x, plot, barsTop);
  drawDots(root, data, x, plot, dotsTop);
  drawTimeAxis(root, start, end, x, dotsTop + DOTS_H);
  clear(box).append(root);
  byId("chart-summary").textContent = summary(data);
}

// What the chart shows, in words.
export function summary(data) {
  const window = data.minutes === 60 ? "the last hour" : `the last ${data.minutes} minutes`;
  const ended = data.completed + data.errors;
  if (!ended) return `No task ended in ${window}.`;
  const parts = [`In ${window}, ${ended} task${ended === 1 ? "" : "s"} ended: ${data.completed} completed, ${data.errors} with an error.`];
  const timed = data.points.filter((p) => p.durationS !== null);
  if (data.medianS !== null) parts.push(`Median duration ${duration(data.medianS)}.`);
  if (timed.length) {
    const longest = timed.reduce((a, b) => (b.durationS > a.durationS ? b : a));
    parts.push(`Longest: ${longest.task}, ${duration(longest.durationS)}.`);
  }
  const busiest = data.buckets.reduce((a, b) => (b.Completed + b.Error > a.Completed + a.Error ? b : a));
  const minutes = data.bucketSeconds / 60;
  parts.push(`Busiest ${minutes >= 1 ? `${+minutes.toFixed(1)} minutes` : `${Math.round(data.bucketSeconds)} seconds`}: from ${hourMinute(Date.parse(busiest.start))}, ${busiest.Completed + busiest.Error} tasks.`);
  return parts.join(" ");
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const steps = [1, 2, 2.5, 5, 10];
  return steps.map((s) => s * power).find((s) => s >= value);
}

function drawBars(root, data, x, plot, top) {
  const perMinute = 60 / data.bucketSeconds;
  const most = Math.max(0, ...data.buckets.map((b) => b.Completed + b.Error));
  const max = niceMax(most);
  const y = (count) => top + BARS_H - (count / max) * BARS_H;
  axis(root, plot, top, BARS_H, [0, max], (v) => `${+(v * perMinute).toFixed(1)}`, "tasks/min");
  const width = plot.w / data.buckets.length;
  data.buckets.forEach((bucket, index) => {
    const left = plot.x + index * width + 1;
    const done = y(bucket.Completed);
    const title = `${hourMinute(Date.parse(bucket.start))}: ${bucket.Completed} completed, ${bucket.Error} errors`;
    if (bucket.Completed) root.append(rect(left, done, width - 2, top + BARS_H - done, "bar-completed", title));
    if (bucket.Error) {
      const failed = y(bucket.Completed + bucket.Error);
      root.append(rect(left, failed, width - 2, done - failed, "bar-error", title));
    }
  });
}

function drawDots(root, data, x, plot, top) {
  const longest = Math.max(0, ...data.points.map((p) => p.durationS ?? 0));
  const max = niceMax(longest);
  const y = (seconds) => top + DOTS_H - (seconds / max) * DOTS_H;
  axis(root, plot, top, DOTS_H, [0, max], seconds, "duration");
  for (const point of data.points) {
    if (point.durationS === null) continue;
    const dot = svg("circle", {
      cx: x(Date.parse(point.endedAt)).toFixed(1),
      cy: y(point.durationS).toFixed(1),
      r: 3.5,
      class: point.status === "Error" ? "dot-error" : "dot-completed",
    });
    dot.append(svg("title", {}, `${point.task}: ${point.status} after ${duration(point.durationS)}`));
    root.append(dot);
  }
}

function axis(root, plot, top, height, [low, high], format, label) {
  for (const value of [low, (low + high) / 2, high]) {
    const at = top + height - ((value - low) / (high - low)) * height;
    root.append(svg("line", { x1: plot.x, x2: plot.x + plot.w, y1: at, y2: at, class: value === low ? "axis" : "grid" }));
    root.append(svg("text", { x: plot.x - 6, y: at + 4, class: "tick", "text-anchor": "end" }, format(value)));
  }
  root.append(svg("text", { x: plot.x, y: top - 2, class: "axis-label" }, label));
}

function drawTimeAxis(root, start, end, x, bottom) {
  const count = x(end) - x(start) < 400 ? 3 : 5;
  for (let i = 0; i <= count; i += 1) {
    const ms = start + ((end - start) * i) / count;
    const anchor = i === 0 ? "start" : i === count ? "end" : "middle";
    root.append(svg("text", { x: x(ms), y: bottom + 16, class: "tick", "text-anchor": anchor }, hourMinute(ms)));
  }
}

function seconds(value) {
  return value >= 120 ? `${+(value / 60).toPrecision(3)} min` : `${+value.toPrecision(3)} s`;
}

function rect(left, top, width, height, className, title) {
  const node = svg("rect", { x: left.toFixed(1), y: top.toFixed(1), width: Math.max(1, width).toFixed(1), height: Math.max(0, height).toFixed(1), rx: 2, class: className });
  node.append(svg("title", {}, title));
  return node;
}
