// The cockpit: wires the list and its filters, the form, the chart and the instance
// view, and keeps them live. One long poll at a time follows the server's changes;
// when the server's long polls are all taken (it answers at once), it polls gently
// instead; when the server cannot be reached, the outage banner says so and the page
// tries again, never more than 5 s apart.

import * as api from "./api.js";
import { byId, duration, zone } from "./dom.js";
import { drawChart } from "./chart.js";
import { Filters } from "./filters.js";
import { SubmitForm } from "./form.js";
import { InstanceView } from "./instance.js";
import { Outage } from "./outage.js";
import { TaskList, WAIT_S } from "./tasks.js";

const CHART_EVERY_MS = 10000;
const CATALOG_EVERY_MS = 30000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let chartTimer = null;
let lastChart = null;

const minutes = () => Number(byId("chart-minutes").value);
const open = (id) => {
  window.location.hash = `#task/${encodeURIComponent(id)}`;
};
const instance = new InstanceView({
  onClosed: closed,
  onRunAgain: (task, inputs) => form.fill(task, inputs),
  onCancelled: (task) => list.apply([task]),
});
const list = new TaskList({
  onOpen: open,
  onTiles: showTiles,
  minutes,
  onChange: (tasks) => {
    instance.changed(tasks);
    if (tasks.some((task) => task.endedAt || task.state === "Queued")) refreshChartSoon();
  },
});
const filters = new Filters({ onChange: (values) => filtered(values) });
const form = new SubmitForm({
  onOpen: open,
  onQueued: (task) => list.apply([task]),
  onCatalog: (tasks) => filters.useCatalog(tasks),
});
const outage = new Outage({
  onChange: (active) => {
    list.frozen = active;
    setLive(active ? "offline" : "live", active ? "offline" : "live");
  },
});

function setLive(state, text) {
  const live = byId("live");
  live.dataset.state = state;
  live.textContent = text;
}

async function filtered(values) {
  list.filters = values;
  try {
    await list.load();
  } catch (error) {
    if (error.unreachable) outage.begin(error);
    else list.failed(error);
  }
}

// The dialog closed: drop #task/<id> from the URL, give the focus back.
function closed(id, returnTo) {
  window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}`);
  if (returnTo && returnTo.isConnected && returnTo !== document.body) returnTo.focus();
  else if (!list.focusRow(id)) byId("list-title").focus();
}

function refreshChartSoon() {
  if (chartTimer) return;
  chartTimer = setTimeout(() => {
    chartTimer = null;
    refreshChart();
  }, 300);
}

async function refreshChart() {
  try {
    lastChart = await api.get("chart", { minutes: minutes() });
    drawChart(lastChart);
    byId("tile-median").textContent = lastChart.medianS === null ? "–" : duration(lastChart.medianS);
  } catch {
    // the follow loop says when the server cannot be reached
  }
}

function showTiles(tiles) {
  byId("tile-queued").textContent = String(tiles.states.Queued);
  byId("tile-running").textContent = String(tiles.states.InProgress);
  if (tiles.minutes === undefined) return;
  const span = tiles.minutes === 60 ? "last hour" : `last ${tiles.minutes} min`;
  for (const label of document.querySelectorAll(".tile-window")) label.textContent = span;
  byId("tile-completed").textContent = String(tiles.completed);
  byId("tile-errors").textContent = String(tiles.errors);
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
  list.filters = filters.current();
  for (;;) {
    try {
      await Promise.all([list.load(), form.load()]);
      outage.end();
      return;
    } catch (error) {
      if (error.status === 401) await askForKey(true);
      else {
        outage.begin(error);
        await outage.wait();
      }
    }
  }
}

async function follow() {
  for (;;) {
    const began = Date.now();
    try {
      // While the server is away, ask without waiting: the answer says it is back.
      const changed = await list.follow(outage.active ? 0 : WAIT_S);
      if (outage.active) recovered();
      // Back at once with nothing: the server's long polls are all taken. Poll gently.
      else if (!changed && Date.now() - began < (WAIT_S * 1000) / 4) await sleep(3000);
    } catch (error) {
      if (error.status === 401) {
        await askForKey(true);
        await start();
        continue;
      }
      if (!error.unreachable && error.status < 500) {
        list.failed(error); // a request the server refuses (say, a bad filter in the URL)
        await sleep(5000);
        continue;
      }
      outage.begin(error);
      await outage.wait();
    }
  }
}

function recovered() {
  outage.end();
  refreshChart();
  instance.refresh();
  form.load().catch(() => {});
}

function route() {
  const found = /^#task\/(.+)$/.exec(window.location.hash);
  if (!found) {
    instance.hide();
    return;
  }
  let id;
  try {
    id = decodeURIComponent(found[1]);
  } catch {
    instance.hide();
    byId("list-error").textContent = "The address names no task instance: its id is not valid percent-encoded text.";
    return;
  }
  instance.show(id);
}

byId("forget-key").addEventListener("click", () => {
  api.setKey(null);
  window.location.reload();
});
byId("chart-minutes").addEventListener("change", () => {
  refreshChart();
  list.load().catch(() => {});
});
window.addEventListener("hashchange", route);
window.addEventListener("resize", () => {
  if (lastChart) drawChart(lastChart);
});

(async () => {
  byId("forget-key").hidden = !api.key();
  byId("list-zone").textContent = `your time zone (${zone()})`;
  byId("submitted-heading").textContent = `Submitted (${zone()})`;
  await start();
  setLive("live", "live");
  route();
  refreshChart();
  setInterval(refreshChart, CHART_EVERY_MS);
  setInterval(() => form.load().catch(() => {}), CATALOG_EVERY_MS);
  follow();
})();
