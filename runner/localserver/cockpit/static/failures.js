// The failures of the view, grouped by message (GET /local/api/cockpit/failures): the
// server folds numbers, ids, times and quoted values away, so that one bug is one group.
// Each group: how many, when first and last seen, the tasks it hits, and one click to
// the list of its failures (which bulk actions can then run again). The list's filters
// apply, all but its state.

import * as api from "./api.js";
import { byId, clear, count, el, remember, remembered, when } from "./dom.js";
import { serverQuery } from "./filters.js";

const OPEN = "xc-cockpit-failures-open";

export class FailureGroups {
  constructor({ onPick }) {
    this.onPick = onPick;
    this.known = new Map(); // key -> folded message, of the groups seen
    this.generation = 0;
    const details = byId("failures");
    details.open = remembered(OPEN) !== "false";
    details.addEventListener("toggle", () => remember(OPEN, String(details.open)));
  }

  async load(view, nowMs) {
    const generation = ++this.generation;
    const query = { ...serverQuery(view, nowMs), state: null, failure: null, sort: null, order: null };
    const answer = await api.get("failures", query);
    if (generation !== this.generation) return;
    for (const group of answer.groups) this.known.set(group.key, group.message);
    this.render(answer, new Date(Date.parse(answer.now)));
  }

  // The words for a group's filter: its folded message, when it was seen.
  describe(key) {
    const message = this.known.get(key);
    return message ? `Failures like “${message}”` : "The failures of one group";
  }

  render(answer, now) {
    const summary = byId("failures-summary");
    const body = clear(byId("failures-body"));
    if (!answer.failures) {
      summary.textContent = "none";
      body.append(el("p", { className: "muted", text: "No failure among the task instances the filters select." }));
      return;
    }
    const groups = `${count(answer.count)} group${answer.count === 1 ? "" : "s"}`;
    summary.textContent = `${count(answer.failures)} in ${groups}`;
    const rows = answer.groups.map((group) => {
      const show = el("button", {
        className: "link",
        text: `show ${count(group.count)}`,
        attrs: { type: "button", "data-key": group.key, "aria-label": `show the ${count(group.count)} failures like ${group.message}` },
      });
      show.addEventListener("click", () => this.onPick(group));
      const tasks = group.tasks.map((t) => `${t.task} (${count(t.count)})`).join(", ");
      return el("tr", { attrs: { "data-key": group.key } }, [
        el("td", { className: "failure-message" }, [
          el("span", { className: "mono", text: group.message }),
          group.example && group.example !== group.message ? el("span", { className: "muted example", text: `e.g. ${group.example}` }) : null,
        ]),
        el("td", { className: "num", text: count(group.count), attrs: { "data-label": "failures" } }),
        el("td", { className: "muted", text: when(group.firstSeen, now), attrs: { title: group.firstSeen, "data-label": "first seen" } }),
        el("td", { className: "muted", text: when(group.lastSeen, now), attrs: { title: group.lastSeen, "data-label": "last seen" } }),
        el("td", { text: tasks, attrs: { "data-label": "tasks" } }),
        el("td", {}, [show]),
      ]);
    });
    const heads = ["message", "failures", "first seen", "last seen", "tasks", "list"].map((h) => el("th", { text: h, attrs: { scope: "col" } }));
    heads[1].className = "num";
    body.append(el("table", { className: "failure-groups" }, [el("thead", {}, [el("tr", {}, heads)]), el("tbody", {}, rows)]));
    if (answer.count > answer.groups.length) {
      body.append(el("p", { className: "muted", text: `The ${answer.groups.length} largest of ${groups} are shown.` }));
    }
  }
}
