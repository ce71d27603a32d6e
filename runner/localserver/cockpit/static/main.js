// The cockpit: wires the list, the form, the chart and the instance view, and keeps
// them live. One long poll at a time follows the server's changes; when the server's
// long polls are all taken (it answers at once), it polls gently instead; when the
// server cannot be reached, it tries again later, backing off.

import * as api from "./api.js";
import { byId, duration } from "./dom.js";
import { drawChart } from "./chart.js";
import { SubmitForm } from "./form.js";
import { InstanceView } from "./instance.js";
import { TaskList, WAIT_S } from "./tasks.js";

const CHART_EVERY_MS = 10000;
const CATALOG_EVERY_MS = 30000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let chartTimer = null;
let lastChart = null;

const instance = new InstanceView();
const open = (id) => {
  window.location.hash = `#task/${encodeURIComponent(id)}`;
};
const list = new TaskList({
  onOpen: open,
  onChange: (tasks) => {
    instance.changed(tasks);
    if (tasks.some((task) => task.endedAt || task.state === "Queued")) refreshChartSoon();
  },
});
const form = new SubmitForm({ onOpen: open, onQueued: (task) => list.apply([task]) });

function setLive(state, text) {
  const live = byId("live");
  live.dataset.state = state;
  live.textContent = text;
}

function refreshChartSoon() {
  if (chartTimer) return;
  chartTimer = setTimeout(() => {
    chartTimer = null;
    refreshChart();
  }, 1000);
}

async function refreshChart() {
  try {
    lastChart = await api.get("chart", { minutes: byId("chart-minutes").value });
    drawChart(lastChart);
    showTiles(lastChart);
  } catch {
    // the follow loop says when the server cannot be reached
  }
}

function showTiles(chart) {
  byId("tile-queued").textContent = String(chart.states.Queued);
  byId("tile-running").textContent = String(chart.states.InProgress);
  byId("tile-window").textContent = chart.minutes === 60 ? "(hour)" : `(${chart.minutes} minutes)`;
  byId("tile-completed").textContent = String(chart.completed);
  byId("tile-errors").textContent = String(chart.errors);
  byId("tile-median").textContent = chart.medianS === null ? "–" : duration(chart.medianS);
}

// Resolves once the user gave a key (after a 401).
function askForKey(refused) {
  setLive("locked", "API key needed");
  byId("cockpit").hidden = true;
  byId("key-panel").hidden = false;
  byId("key-error").textContent = refused && api.key() ? "That key was refused." : "";
  api.setKey(null);
  byId("forget-key").hidden = true;
  byId("api-key").focus();
  return new Promise((resolve) => {
    byId("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      api.setKey(byId("api-key").value.trim());
      byId("api-key").value = "";
      byId("key-panel").hidden = true;
      byId("cockpit").hidden = false;
      byId("forget-key").hidden = false;
      resolve();
    }, { once: true });
  });
}

async function start() {
  for (;;) {
    try {
      await Promise.all([list.load(), form.load()]);
      return;
    } catch (error) {
      if (error.status === 401) await askForKey(true);
      else {
        setLive("offline", `cannot reach the server: ${error.message}`);
        await sleep(3000);
      }
    }
  }
}

async function follow() {
  let backoffMs = 1000;
  for (;;) {
    const began = Date.now();
    try {
      const changed = await list.next();
      setLive("live", "live");
      backoffMs = 1000;
      // Back at once with nothing: the server's long polls are all taken. Poll gently.
      if (!changed && Date.now() - began < (WAIT_S * 1000) / 4) await sleep(3000);
    } catch (error) {
      if (error.status === 401) {
        await askForKey(true);
        await start();
        continue;
      }
      setLive("offline", "reconnecting…");
      await sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, 30000);
    }
  }
}

function route() {
  const found = /^#task\/(.+)$/.exec(window.location.hash);
  if (found) instance.show(decodeURIComponent(found[1]));
  else instance.hide();
}

byId("forget-key").addEventListener("click", () => {
  api.setKey(null);
  window.location.reload();
});
byId("chart-minutes").addEventListener("change", refreshChart);
window.addEventListener("hashchange", route);
window.addEventListener("resize", () => {
  if (lastChart) drawChart(lastChart);
});

(async () => {
  byId("forget-key").hidden = !api.key();
  await start();
  setLive("live", "live");
  route();
  refreshChart();
  setInterval(refreshChart, CHART_EVERY_MS);
  setInterval(() => form.load().catch(() => {}), CATALOG_EVERY_MS);
  follow();
})();
