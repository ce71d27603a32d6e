// One row of the task list, drawn from its task line: built from a template row cloned
// once per task (cheaper than making each element), its task text set only as text.

import { badge, cut, duration, el, shortId, shown, valueText, when } from "./dom.js";

const SHOWN_VALUE_CHARS = 300; // of each output in a row; the instance view shows all
const LABELS = ["Select", "Task", "Instance", "State", "Progress", "Details", "Duration", "Ended", "Submitted"];
const CLASSES = ["pick", "task-name", "mono instance", "", "progress-cell", "detail", "num duration", "muted ended", "muted submitted"];

let template = null;

// A row with its cells, each holding one box (a card on phones shows its label beside it).
function blank() {
  if (!template) {
    template = el("tr", { className: "task-row", attrs: { tabindex: -1 } }, LABELS.map((label, index) => (
      el("td", { className: CLASSES[index], attrs: { "data-label": label } }, [el("span", { className: "cell" })])
    )));
    const pick = el("input", { attrs: { type: "checkbox", tabindex: -1 } });
    template.cells[0].firstChild.append(pick);
  }
  return template.cloneNode(true);
}

// The row of `task`; `now` is the server's time (ms), `selected` whether it is picked.
export function drawRow(task, now, selected) {
  const row = blank();
  row.className = `task-row state-${task.state.toLowerCase()}`;
  row.dataset.id = task.id;
  row.dataset.ordinal = task.ordinal;
  row.dataset.state = task.state;
  if (task.run) row.dataset.timed = "true";
  const boxes = [...row.cells].map((cell) => cell.firstChild);
  const pick = boxes[0].firstChild;
  pick.checked = selected;
  pick.setAttribute("aria-label", `select ${task.namespace}/${task.name} ${shortId(task.id)}`);
  boxes[1].append(el("span", { className: "ns", text: `${task.namespace}/` }), el("strong", { text: task.name }));
  boxes[2].textContent = shown(shortId(task.id));
  row.cells[2].title = shown(task.id);
  boxes[3].append(badge(task.state));
  if (task.cancelled && task.state !== "Cancelled") boxes[3].append(el("span", { className: "tag", text: task.state === "InProgress" ? "cancelling" : "cancelled" }));
  boxes[4].append(progressBar(task));
  boxes[5].append(detail(task));
  boxes[6].textContent = elapsed(task, now);
  boxes[7].textContent = when(task.endedAt, new Date(now));
  row.cells[7].title = task.endedAt || "";
  boxes[8].textContent = when(task.createdAt, new Date(now));
  row.cells[8].title = task.createdAt;
  return row;
}

// The times of a row, drawn again when they changed (durations that count, relative
// times, a new choice of how times are shown).
export function retime(row, task, now) {
  const boxes = row.cells;
  if (task.durationS === null) put(boxes[6].firstChild, elapsed(task, now));
  put(boxes[7].firstChild, when(task.endedAt, new Date(now)));
  put(boxes[8].firstChild, when(task.createdAt, new Date(now)));
}

function put(box, text) {
  if (box.textContent !== text) box.textContent = text;
}

export function elapsed(task, now) {
  if (task.durationS !== null) return duration(task.durationS);
  if (task.state === "Cancelled") return "";
  const since = task.state === "Queued" ? task.createdAt : task.takenAt;
  if (!since) return "";
  const text = duration(Math.max(0, (now - Date.parse(since)) / 1000));
  return task.state === "Queued" ? `waiting ${text}` : text;
}

function progressBar(task) {
  const known = task.progress !== null && task.progress !== undefined;
  const percent = known ? Math.round(task.progress * 100) : 0;
  const fill = el("div", { className: "fill" });
  fill.style.width = `${percent}%`;
  const bar = el(
    "div",
    {
      className: `bar ${known ? "" : "unknown"} ${task.state.toLowerCase()}`,
      attrs: {
        role: "progressbar",
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        "aria-valuenow": known ? percent : null,
        "aria-label": `progress of ${task.namespace}/${task.name}`,
      },
    },
    [fill],
  );
  return el("div", { className: "progress" }, [bar, el("span", { className: "pct", text: known ? `${percent}%` : "" })]);
}

function detail(task) {
  if (task.state === "Error") return el("span", { className: "error-text", text: cut(task.message || "failed (no message)", SHOWN_VALUE_CHARS * 2) });
  if (task.state === "Completed") {
    const parts = el("span", { className: "outputs" });
    for (const [name, value] of Object.entries(task.outputs || {})) {
      const text = valueText(value);
      parts.append(el("span", { className: "chip", attrs: { title: cut(text, 2000) } }, [
        el("span", { className: "chip-name", text: name }),
        el("span", { className: "chip-value", text: cut(text, SHOWN_VALUE_CHARS) }),
      ]));
    }
    if (task.message) parts.append(el("span", { className: "muted", text: cut(task.message, SHOWN_VALUE_CHARS) }));
    if (!parts.childElementCount) parts.append(el("span", { className: "muted", text: "no outputs" }));
    return parts;
  }
  if (task.state === "Cancelled") return el("span", { className: "muted", text: "cancelled before a runner took it" });
  if (task.state === "Queued") return el("span", { className: "muted", text: "waiting for a runner" });
  if (task.message === null) return el("span", { className: "muted", text: "handed out to a runner" });
  return el("span", { className: "message", text: cut(task.message, SHOWN_VALUE_CHARS * 2) });
}
