// The task's log in the instance view, with its tools: wrap long lines (remembered in
// this browser), copy it all, and download it as a text file.

import { copyText, el, remember, remembered } from "./dom.js";

const WRAP = "xc-cockpit-log-wrap";

export function logBox(log, id) {
  const box = el("pre", { className: "log", attrs: { id: "log-box", tabindex: 0, "aria-label": "the task's log" } });
  const wrapped = remembered(WRAP) === "true";
  box.classList.toggle("wrapped", wrapped);
  const note = log.droppedLines
    ? `(${log.droppedLines.toLocaleString("en-US")} earlier lines, ${log.droppedBytes.toLocaleString("en-US")} bytes, not kept)\n`
    : "";
  if (note) box.append(el("span", { className: "log-note", text: note }));
  for (const [stream, text] of log.lines) box.append(el("span", { className: `log-${stream}`, text: `${text}\n`, multiline: true }));
  const wrap = tool("log-wrap", "Wrap long lines", { "aria-pressed": String(wrapped), "aria-controls": "log-box" });
  wrap.addEventListener("click", () => {
    const on = wrap.getAttribute("aria-pressed") !== "true";
    wrap.setAttribute("aria-pressed", String(on));
    box.classList.toggle("wrapped", on);
    remember(WRAP, String(on));
  });
  const copy = tool("log-copy", "Copy the log");
  const said = el("span", { className: "action-note", attrs: { id: "log-note", role: "status" } });
  copy.addEventListener("click", async () => {
    said.textContent = (await copyText(textOf(log, note))) ? "Copied the log." : "Could not copy: select the text instead.";
  });
  const download = tool("log-download", "Download it");
  download.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([textOf(log, note)], { type: "text/plain;charset=utf-8" }));
    const link = el("a", { attrs: { href: url, download: `task-${id}.log` } });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    said.textContent = `Saved as task-${id}.log.`;
  });
  return el("div", { className: "log-box" }, [el("div", { className: "log-tools" }, [wrap, copy, download, said]), box]);
}

// The log as a file holds it: each line as the task wrote it.
function textOf(log, note) {
  return note + log.lines.map(([, text]) => `${text}\n`).join("");
}

function tool(id, text, attrs = {}) {
  return el("button", { className: "button-secondary compact-button", text, attrs: { id, type: "button", ...attrs } });
}

