// How times are shown: in the browser's time zone, in UTC, or relative ("3 min ago"),
// chosen above the list and remembered in this browser. A new choice redraws every time
// on the page at once.

import { byId, clock, remember, remembered, shownZone, zone } from "./dom.js";

const KEY = "xc-cockpit-times";
const MODES = ["local", "utc", "relative"];

export class TimeChoice {
  constructor({ onChange }) {
    const select = byId("time-mode");
    const stored = remembered(KEY);
    clock.mode = MODES.includes(stored) ? stored : "local";
    select.options[0].textContent = `local (${zone()})`;
    select.value = clock.mode;
    select.addEventListener("change", () => {
      clock.mode = MODES.includes(select.value) ? select.value : "local";
      remember(KEY, clock.mode);
      this.label();
      onChange();
    });
    this.label();
  }

  // The headings say the zone the list's times are in.
  label() {
    const zoneText = clock.mode === "relative" ? "" : ` (${shownZone()})`;
    byId("submitted-heading").textContent = `Submitted${zoneText}`;
    byId("ended-heading").textContent = `Ended${zoneText}`;
  }
}
