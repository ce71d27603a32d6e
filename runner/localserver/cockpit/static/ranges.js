// The list's time range: the instances submitted (or ended) in the last 15 minutes, hour
// or day, or between two times, typed in the zone times are shown in (local or UTC).
// A preset is relative: a link to "the last hour" shows the last hour when it is opened.
// The server does the filtering (`submittedFrom`, `submittedTo`, `endedFrom`, `endedTo`).

import { byId, clock, shownZone } from "./dom.js";

const PRESETS_MS = { "15m": 15 * 60000, "1h": 3600000, "1d": 86400000 };

export class RangePicker {
  constructor({ onChange }) {
    for (const id of ["filter-from", "filter-to"]) byId(id).addEventListener("change", onChange);
  }

  // The custom range's ends, as ISO times ("" when open, or when no custom range is chosen).
  read() {
    if (byId("filter-range").value !== "custom") return { from: "", to: "" };
    return { from: isoOf(byId("filter-from").value), to: isoOf(byId("filter-to").value) };
  }

  show(view, all = false) {
    byId("custom-range").hidden = view.range !== "custom";
    for (const [id, value] of [["filter-from", view.from], ["filter-to", view.to]]) {
      if (all || document.activeElement !== byId(id)) byId(id).value = value ? typed(value) : "";
    }
    for (const node of document.querySelectorAll(".range-zone")) node.textContent = `(${shownZone()})`;
  }
}

// The range as the server's query parameters, its preset's start computed at `nowMs`.
export function rangeQuery(view, nowMs = Date.now()) {
  const time = view.time === "ended" ? "ended" : "submitted";
  if (view.range in PRESETS_MS) return { [`${time}From`]: new Date(nowMs - PRESETS_MS[view.range]).toISOString() };
  if (view.range === "custom") return { [`${time}From`]: view.from || null, [`${time}To`]: view.to || null };
  return {};
}

// A datetime-local field's text as an ISO time ("" if it is none).
function isoOf(text) {
  if (!text) return "";
  const moment = new Date(clock.mode === "utc" ? `${text}Z` : text);
  return Number.isNaN(moment.getTime()) ? "" : moment.toISOString();
}

// An ISO time as a datetime-local field shows it, in the zone times are shown in.
function typed(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return "";
  const shifted = clock.mode === "utc" ? moment : new Date(moment.getTime() - moment.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 19);
}
