// When the local server cannot be reached: a banner says so in plain words and since
// when, the data on the page is marked stale (durations stop counting), and the page
// tries again after 0.5, 1, 2 and then every 4 s (never more than 5 s apart), or at
// once with "Retry now". The banner goes as soon as an answer comes.

import { byId, when } from "./dom.js";

const DELAYS_MS = [500, 1000, 2000, 4000];

export class Outage {
  constructor({ onChange }) {
    this.active = false;
    this.since = null;
    this.attempt = 0;
    this.wake = null;
    this.countdown = null;
    this.onChange = onChange;
    byId("retry-now").addEventListener("click", () => {
      byId("outage-retry").textContent = "Trying again now…";
      if (this.wake) this.wake();
    });
  }

  begin(error) {
    if (!this.active) {
      this.active = true;
      this.since = new Date();
      this.attempt = 0;
      byId("outage").hidden = false;
      document.body.classList.add("stale");
      this.onChange(true);
    }
    byId("outage-text").textContent = `Since ${when(this.since.toISOString())}: ${error.message}. What the page shows is from then, and durations are frozen.`;
  }

  end() {
    if (!this.active) return;
    this.active = false;
    clearInterval(this.countdown);
    byId("outage").hidden = true;
    document.body.classList.remove("stale");
    this.onChange(false);
  }

  // Waits before the next try: the delay grows to 4 s; "Retry now" ends it at once.
  wait() {
    const delayMs = DELAYS_MS[Math.min(this.attempt, DELAYS_MS.length - 1)];
    this.attempt += 1;
    const due = Date.now() + delayMs;
    const say = () => {
      const seconds = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      byId("outage-retry").textContent = `Trying again in ${seconds} s.`;
    };
    say();
    clearInterval(this.countdown);
    this.countdown = setInterval(say, 250);
    return new Promise((resolve) => {
      const timer = setTimeout(done, delayMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        clearInterval(self.countdown);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }
}
