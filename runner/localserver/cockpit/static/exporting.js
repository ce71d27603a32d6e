// Export what the filters select, in the list's order, as CSV or JSON lines. The page
// asks the server for a download link (POST /local/api/cockpit/exports: the page never
// puts the API key in a URL), then follows it: the browser writes the file to disk as
// the server streams it, however many rows there are.

import * as api from "./api.js";
import { byId, count, el } from "./dom.js";

const NAMES = { csv: "CSV", jsonl: "JSON lines" };

export class Exporter {
  constructor({ query, total }) {
    this.query = query;
    this.total = total;
    byId("export-csv").addEventListener("click", () => this.go("csv"));
    byId("export-jsonl").addEventListener("click", () => this.go("jsonl"));
  }

  async go(format) {
    const note = byId("export-note");
    const params = new URLSearchParams({ format });
    for (const [name, value] of Object.entries(this.query())) {
      if (value !== null && value !== undefined && value !== "" && name !== "minutes") params.set(name, String(value));
    }
    try {
      const answer = await api.post(`exports?${params}`);
      const link = el("a", { attrs: { href: answer.url, download: "" } });
      document.body.append(link);
      link.click();
      link.remove();
      note.textContent = `Exporting ${count(this.total())} task instances as ${NAMES[format]}: your browser saves the file.`;
    } catch (error) {
      note.textContent = `Nothing was exported: ${error.message}.`;
    }
  }
}
