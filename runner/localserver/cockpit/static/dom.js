// Building the page from data. Task text is untrusted (messages and outputs come
// from task code): it only ever goes into the page as text, through textContent,
// never as HTML. No function here takes markup. Every text that goes in through
// `el` is made `shown` first: characters that could reorder or hide what is around
// them (bidi overrides, controls) are written as escapes, as the command line does.

// What Python's str.isprintable() refuses, less what runner.core.text.printable
// keeps (spaces, private use, tab, ZWNJ, ZWJ): controls, format characters, lone
// surrogates, unassigned code points and noncharacters, line and paragraph separators.
const UNSHOWN = /[\p{Cc}\p{Cf}\p{Cs}\p{Cn}\p{Zl}\p{Zp}]/gu;
const KEPT = new Set(["\t", "\u200c", "\u200d"]);

export function escapeChar(ch) {
  const code = ch.codePointAt(0);
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\U${code.toString(16).padStart(8, "0")}`;
}

// `text` as the command line prints it: `\u202e`, `\x1b`, `\x0d` instead of the
// characters themselves; newlines kept only when `multiline`.
export function shown(text, multiline = false) {
  return String(text).replace(UNSHOWN, (ch) => (KEPT.has(ch) || (multiline && ch === "\n") ? ch : escapeChar(ch)));
}

// Attributes that show text to the user (others, such as data-id, keep values as they are).
const SHOWN_ATTRS = new Set(["title", "aria-label", "label", "placeholder"]);

export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined && options.text !== null) node.textContent = shown(options.text, options.multiline);
  for (const [name, value] of Object.entries(options.attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, value === true ? "" : SHOWN_ATTRS.has(name) ? shown(value) : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? shown(child) : child);
  }
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = shown(text);
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

// At most `limit` characters of a text, saying how many more there are.
export function cut(text, limit) {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${(text.length - limit).toLocaleString("en-US")} more characters)`;
}

export function shortId(id) {
  return String(id).slice(0, 8);
}

export function count(number) {
  return Number(number).toLocaleString("en-US");
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

// How times are shown: "local" (the browser's time zone), "utc", or "relative" ("3 min
// ago"; the instance view gives the exact local time beside it). times.js sets it.
export const clock = { mode: "local" };

// The browser's time zone as an offset: "UTC", "UTC+1", "UTC-5:30".
export function zone(moment = new Date()) {
  const offset = -moment.getTimezoneOffset();
  if (offset === 0) return "UTC";
  const hours = Math.floor(Math.abs(offset) / 60);
  const minutes = Math.abs(offset) % 60;
  return `UTC${offset > 0 ? "+" : "-"}${hours}${minutes ? `:${String(minutes).padStart(2, "0")}` : ""}`;
}

// The zone times are shown in: the browser's, or UTC.
export function shownZone(moment = new Date()) {
  return clock.mode === "utc" ? "UTC" : zone(moment);
}

function pad(number, size = 2) {
  return String(number).padStart(size, "0");
}

function parsed(iso) {
  const moment = new Date(iso);
  return iso && !Number.isNaN(moment.getTime()) ? moment : null;
}

// A moment's date and time of day, in the zone times are shown in.
function fields(moment) {
  const utc = clock.mode === "utc";
  return {
    day: `${utc ? moment.getUTCFullYear() : moment.getFullYear()}-${pad((utc ? moment.getUTCMonth() : moment.getMonth()) + 1)}-${pad(utc ? moment.getUTCDate() : moment.getDate())}`,
    hour: pad(utc ? moment.getUTCHours() : moment.getHours()),
    minute: pad(utc ? moment.getUTCMinutes() : moment.getMinutes()),
    second: pad(utc ? moment.getUTCSeconds() : moment.getSeconds()),
  };
}

// How long ago: "12 s ago", "3 min ago", "5 h ago", "2 days ago" ("in 3 s" ahead).
export function ago(iso, now = Date.now()) {
  const moment = parsed(iso);
  if (!moment) return "";
  const seconds = Math.round((now - moment.getTime()) / 1000);
  const size = Math.abs(seconds);
  let text = `${size} s`;
  if (size >= 36 * 3600) text = `${Math.round(size / 86400)} days`;
  else if (size >= 90 * 60) text = `${Math.round(size / 3600)} h`;
  else if (size >= 90) text = `${Math.round(size / 60)} min`;
  return seconds < -1 ? `in ${text}` : `${text} ago`;
}

// A time of the list: "14:03:22" today, "2026-11-27 14:03" another day (the zone is said
// once, in the column's heading), or how long ago.
export function when(iso, now = new Date()) {
  const moment = parsed(iso);
  if (!moment) return "";
  if (clock.mode === "relative") return ago(iso, now.getTime());
  const at = fields(moment);
  const time = `${at.hour}:${at.minute}`;
  return at.day === fields(now).day ? `${time}:${at.second}` : `${at.day} ${time}`;
}

// A time to the millisecond, with its date and zone: "2026-11-27 14:03:22.123 UTC+1"
// (and how long ago, when times are shown so).
export function exactly(iso, now = Date.now()) {
  const moment = parsed(iso);
  if (!moment) return "";
  const at = fields(moment);
  const text = `${at.day} ${at.hour}:${at.minute}:${at.second}.${pad(moment.getMilliseconds(), 3)} ${shownZone(moment)}`;
  return clock.mode === "relative" ? `${text} (${ago(iso, now)})` : text;
}

// A time as HH:MM, for the chart's axis.
export function hourMinute(ms) {
  const at = fields(new Date(ms));
  return `${at.hour}:${at.minute}`;
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

// Copies `text` to the clipboard; whether it worked. The Clipboard API needs a
// secure context (loopback is one); elsewhere a hidden field is copied from.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const field = el("textarea", { className: "offscreen", attrs: { readonly: true, "aria-hidden": "true", tabindex: "-1" } });
    field.value = text;
    document.body.append(field);
    field.select();
    let done = false;
    try {
      done = document.execCommand("copy");
    } catch {
      done = false;
    }
    field.remove();
    return done;
  }
}

// A choice remembered in this browser (localStorage), or null.
export function remembered(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage refused: nothing is remembered
  }
}

export function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage refused: the choice holds for this page only
  }
}
