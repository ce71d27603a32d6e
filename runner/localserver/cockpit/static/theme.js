// Light or dark: as the system prefers (`prefers-color-scheme`), or chosen at the top of
// the page and remembered in this browser. The stylesheet holds both palettes; this sets
// `data-theme` on the page, which picks one.

import { byId, remember, remembered } from "./dom.js";

const KEY = "xc-cockpit-theme";
const THEMES = ["auto", "light", "dark"];

export function themeChoice(onChange) {
  const select = byId("theme");
  const stored = remembered(KEY);
  const chosen = THEMES.includes(stored) ? stored : "auto";
  select.value = chosen;
  apply(chosen);
  select.addEventListener("change", () => {
    const theme = THEMES.includes(select.value) ? select.value : "auto";
    remember(KEY, theme);
    apply(theme);
    onChange();
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", onChange);
}

// The theme chosen on the cockpit, on another of its pages (which offers no choice).
export function rememberedTheme() {
  const stored = remembered(KEY);
  apply(THEMES.includes(stored) ? stored : "auto");
}

function apply(theme) {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}
