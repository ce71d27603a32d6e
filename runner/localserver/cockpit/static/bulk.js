// Bulk actions on the selection (selection.js): cancel them, or run them again with the
// inputs each was submitted with. A confirmation states the count; the server does it in
// one request (POST /local/api/cockpit/bulk), in batches, and the page follows its
// progress (GET bulk/{id}) to its result, in words: "498 cancelled, 2 had already ended."

import * as api from "./api.js";
import { byId, count } from "./dom.js";

const FOLLOW_MS = 400;
const ASK = {
  cancel: (n) => [
    `Cancel ${n}? Queued ones are never handed out; running ones are stopped by their runners; those that ended stay as they ended.`,
    `Yes, cancel ${n}`,
  ],
  rerun: (n) => [
    `Run ${n} again, each with the inputs it was submitted with? Each is checked first, as the submit form checks it.`,
    `Yes, queue ${n} again`,
  ],
};
const DOING = { cancel: "Cancelling", rerun: "Queueing again" };

export class BulkActions {
  constructor({ selection }) {
    this.selection = selection;
    this.action = null;
    this.running = false;
    byId("bulk-cancel").addEventListener("click", () => this.ask("cancel"));
    byId("bulk-rerun").addEventListener("click", () => this.ask("rerun"));
    byId("bulk-no").addEventListener("click", () => this.unask(true));
    byId("bulk-yes").addEventListener("click", () => this.go());
  }

  // The selection changed: the bar shows while something is selected.
  update() {
    const size = this.selection.size();
    byId("bulk-bar").hidden = size === 0;
    if (!size) this.unask(false);
  }

  ask(action) {
    const size = this.selection.size();
    const [question, yes] = ASK[action](`${count(size)} task instance${size === 1 ? "" : "s"}`);
    this.action = action;
    byId("bulk-question").textContent = question;
    byId("bulk-yes").textContent = yes;
    byId("bulk-yes").className = action === "cancel" ? "button-danger" : "button-primary";
    byId("bulk-confirm").hidden = false;
    byId("bulk-yes").focus();
  }

  unask(focus) {
    const asked = this.action;
    byId("bulk-confirm").hidden = true;
    this.action = null;
    if (focus && asked) byId(asked === "cancel" ? "bulk-cancel" : "bulk-rerun").focus();
  }

  async go() {
    const action = this.action;
    if (!action || this.running) return;
    this.running = true;
    byId("bulk-yes").disabled = true;
    try {
      const answer = await api.post("bulk", { action, ...this.selection.request() });
      this.unask(false);
      this.selection.clear();
      await this.follow(answer.action);
    } catch (error) {
      this.say(`Nothing was done: ${error.message}.`);
    } finally {
      byId("bulk-yes").disabled = false;
      this.running = false;
    }
  }

  // Shows the action's progress until it ends, then its result.
  async follow(record) {
    let shown = record;
    byId("bulk-progress").hidden = false;
    for (;;) {
      const percent = shown.total ? Math.round((shown.done / shown.total) * 100) : 100;
      byId("bulk-progress").querySelector(".fill").style.width = `${percent}%`;
      byId("bulk-progress").querySelector("[role=progressbar]").setAttribute("aria-valuenow", String(percent));
      if (shown.state !== "running") break;
      this.say(`${DOING[shown.action]}: ${count(shown.done)} of ${count(shown.total)}…`);
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS));
      try {
        shown = (await api.get(`bulk/${encodeURIComponent(shown.id)}`)).action;
      } catch (error) {
        if (!error.unreachable) throw error;
      }
    }
    byId("bulk-progress").hidden = true;
    const reasons = shown.refusals.map((r) => `${r.reason} (${count(r.count)})`).join("; ");
    this.say(reasons ? `${shown.result} Refused: ${reasons}.` : shown.result);
  }

  say(text) {
    const status = byId("bulk-status");
    status.textContent = text;
  }
}
