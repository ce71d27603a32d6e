// Building the page from data. Task text is untrusted (messages and outputs come
// from task code): it only ever goes into the page as text, through textContent,
// never as HTML. No function here takes markup.

export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  for (const [name, value] of Object.entries(options.attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

// A value as text: strings as they are, anything else as JSON.
export function valueText(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function shortId(id) {
  return String(id).slice(0, 8);
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function clock(iso, withMillis = false) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return "";
  const text = moment.toLocaleTimeString([], { hour12: false });
  return withMillis ? `${text}.${String(moment.getMilliseconds()).padStart(3, "0")}` : text;
}

export function badge(state) {
  return el("span", { className: `badge ${String(state).toLowerCase()}`, text: state });
}

// name = value lines of an outputs or inputs object, as text.
export function pairs(values, className = "pairs") {
  const list = el("dl", { className });
  for (const [name, value] of Object.entries(values || {})) {
    list.append(el("dt", { text: name }), el("dd", { text: valueText(value) }));
  }
  return list;
}
