// The cockpit: wires the list and its view (filters, range, sort, in the URL and the
// history), the failure groups, the selection and its bulk actions, the export, the
// form, the chart and the instance view, and keeps them live. One long poll at a time
// follows the server's changes; when the server's long polls are all taken (it answers
// at once), it polls gently instead; when the server cannot be reached, the outage
// banner says so and the page tries again, never more than 5 s apart. Live updates can
// be paused: the list then stays as it is, and says how many instances changed.

import * as api from "./api.js";
import { BulkActions } from "./bulk.js";
import { drawChart } from "./chart.js";
import { byId, count, duration } from "./dom.js";
import { Exporter } from "./exporting.js";
import { FailureGroups } from "./failures.js";
import { Filters } from "./filters.js";
import { SubmitForm } from "./form.js";
import { InstanceView } from "./instance.js";
import { Outage } from "./outage.js";
import { Selection } from "./selection.js";
import { TaskList, WAIT_S } from "./tasks.js";
import { themeChoice } from "./theme.js";
import { TimeChoice } from "./times.js";
import { viewChanged } from "./timing.js";

const CHART_EVERY_MS = 10000;
const CATALOG_EVERY_MS = 30000;
const FAILURES_AFTER_MS = 2000; // after a failure arrives, the groups are read again
const FAILURES_SETTLE_MS = 500; // after a new view: not while views change quickly

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let chartTimer = null;
let failuresTimer = null;
let lastChart = null;

const minutes = () => Number(byId("chart-minutes").value);
const instance = new InstanceView({
  onClosed: closed,
  onRunAgain: (task, inputs) => form.fill(task, inputs),
  onCancelled: (task) => list.apply([task]),
});
const selection = new Selection({ onChange: () => bulk.update() });
const bulk = new BulkActions({ selection });
const list = new TaskList({
  onOpen: open,
  onTiles: showTiles,
  minutes,
  selection,
  onWaiting: showLive,
  onChange: (tasks) => {
    instance.changed(tasks);
    if (tasks.some((task) => task.endedAt || task.state === "Queued")) refreshChartSoon();
    if (tasks.some((task) => task.state === "Error")) refreshFailuresSoon();
  },
});
selection.list = list;
const failures = new FailureGroups({
  onPick: (group) => filters.set({ state: "Error", failure: group.key }),
});
const filters = new Filters({ onChange: (view) => viewed(view) });
new Exporter({ query: () => list.query(), total: () => list.total });
const form = new SubmitForm({
  onOpen: open,
  onQueued: (task) => list.apply([task]),
  onCatalog: (tasks) => filters.useCatalog(tasks),
});
const outage = new Outage({
  onChange: (active) => {
    list.frozen = active;
    showLive();
  },
});
const times = new TimeChoice({ onChange: redrawTimes });
themeChoice(() => {
  if (lastChart) drawChart(lastChart);
});

// Opens an instance's view: a history entry of its own, that Back closes.
function open(id) {
  window.history.pushState({ task: id }, "", `${window.location.pathname}${window.location.search}#task/${encodeURIComponent(id)}`);
  route();
}

function showLive() {
  const live = byId("live");
  const state = outage.active ? "offline" : list.paused ? "paused" : "live";
  live.dataset.state = state;
  live.textContent = state === "paused" ? pausedText(list.waiting.size, list.stale) : state;
}

function pausedText(waiting, stale) {
  if (stale) return "paused: more than a page of changes wait";
  if (!waiting) return "paused: nothing changed yet";
  return `paused: ${count(waiting)} change${waiting === 1 ? "" : "s"} wait${waiting === 1 ? "s" : ""}`;
}

async function pause() {
  const button = byId("pause");
  const paused = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-pressed", String(paused));
  button.textContent = paused ? "Resume live updates" : "Pause live updates";
  try {
    await list.pause(paused);
  } catch (error) {
    list.failed(error);
  }
  showLive();
}

// A new view (a filter, a search, a sort, a range; Back or Forward): the list, then its
// failure groups. The selection was of the view before: it is cleared.
async function viewed(view) {
  viewChanged();
  list.view = view;
  selection.clear();
  showFailureFilter(view);
  try {
    await list.load();
    showLive();
    failuresSoon(FAILURES_SETTLE_MS);
  } catch (error) {
    if (error.unreachable) outage.begin(error);
    else list.failed(error);
  }
}

// The dialog closed: Back, when the page opened it (so Back does not open it again);
// else the URL without #task/<id>. The focus goes back where it was, also once Back is
// done (going back to an address with a fragment, the browser focuses its target).
function closed(id, returnTo) {
  const refocus = () => {
    if (returnTo && returnTo.isConnected && returnTo !== document.body) returnTo.focus();
    else if (!list.focusRow(id)) byId("list-title").focus();
  };
  if (window.history.state && window.history.state.task === id) {
    window.addEventListener("popstate", refocus, { once: true });
    window.history.back();
  } else {
    window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}`);
  }
  refocus();
}

function refreshChartSoon() {
  if (chartTimer) return;
  chartTimer = setTimeout(() => {
    chartTimer = null;
    refreshChart();
  }, 300);
}

function refreshFailuresSoon() {
  if (failuresTimer || list.paused) return;
  failuresSoon(FAILURES_AFTER_MS);
}

// The failure groups are read `ms` from now (a newer wish replaces an older one).
function failuresSoon(ms) {
  clearTimeout(failuresTimer);
  failuresTimer = setTimeout(() => {
    failuresTimer = null;
    loadFailures().catch(() => {});
  }, ms);
}

async function loadFailures() {
  await failures.load(list.view, list.serverNow());
  showFailureFilter(list.view); // its group's words are known now
}

// Above the list, when it shows one failure group: which, and a way back to all failures.
function showFailureFilter(view) {
  byId("failure-filter-text").textContent = view.failure ? `${failures.describe(view.failure)}.` : "";
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

function redrawTimes() {
  list.tick(true);
  instance.redraw();
  filters.show();
  if (lastChart) drawChart(lastChart);
  loadFailures().catch(() => {});
}

function showTiles(tiles) {
  byId("tile-queued").textContent = count(tiles.states.Queued);
  byId("tile-running").textContent = count(tiles.states.InProgress);
  if (tiles.minutes === undefined) return;
  const span = tiles.minutes === 60 ? "last hour" : `last ${tiles.minutes} min`;
  for (const label of document.querySelectorAll(".tile-window")) label.textContent = span;
  byId("tile-completed").textContent = count(tiles.completed);
  byId("tile-errors").textContent = count(tiles.errors);
}

// Resolves once the user gave a key (after a 401).
function askForKey(refused) {
  byId("live").dataset.state = "locked";
  byId("live").textContent = "API key needed";
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
  list.view = filters.current();
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
  form.recovered();
  refreshChart();
  instance.refresh();
  form.load().catch(() => {});
}

// The instance view follows the URL's #task/<id>: open, closed, or another.
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
byId("pause").addEventListener("click", pause);
// The skip links move the focus, not the address (its fragment is the instance view's).
for (const link of document.querySelectorAll(".skips a")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const target = link.getAttribute("href").slice(1);
    if (target !== "task-rows" || !list.focusRow(null)) byId(target === "task-rows" ? "list-title" : target).focus();
  });
}
byId("chart-minutes").addEventListener("change", () => {
  refreshChart();
  list.load().catch(() => {});
});
for (const th of document.querySelectorAll("#tasks th[data-sort]")) {
  th.querySelector("button").addEventListener("click", () => {
    const view = filters.current();
    const sort = th.dataset.sort;
    const fresh = sort === "state" ? "asc" : "desc"; // a new sort starts where it is most useful
    filters.sortBy(sort, view.sort === sort ? (view.order === "asc" ? "desc" : "asc") : fresh);
  });
}
window.addEventListener("hashchange", route);
window.addEventListener("popstate", route);
window.addEventListener("resize", () => {
  if (lastChart) drawChart(lastChart);
});

(async () => {
  byId("forget-key").hidden = !api.key();
  times.label();
  await start();
  showLive();
  route();
  refreshChart();
  loadFailures().catch(() => {});
  setInterval(refreshChart, CHART_EVERY_MS);
  setInterval(() => form.load().catch(() => {}), CATALOG_EVERY_MS);
  follow();
})();
