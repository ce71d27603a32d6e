// The page's own timings, as User Timing measures that the browser's performance tools
// show (and the browser tests read): `cockpit:draw`, from a change of the view (a
// filter, search, sort or range; Back or Forward) to its first rows painted (a screen
// and more: tasks.js), `cockpit:draw-all`, to all its rows painted, and
// `cockpit:first-count`, from the page's start to its first count painted.

const KEPT = 1000; // measures of each name kept, the oldest cleared past that

let changedAt = null;
let allAt = null; // the change whose rows are not all in the page yet
let counted = false;

export function viewChanged() {
  changedAt = performance.now();
  allAt = null;
}

// The first rows of the view are in the page (`all`: every one of them); measured once
// they are painted.
export function rowsDrawn(all) {
  if (changedAt !== null) {
    const start = changedAt;
    changedAt = null;
    allAt = start;
    afterPaint(() => measure("cockpit:draw", start));
  }
  if (all && allAt !== null) {
    const start = allAt;
    allAt = null;
    afterPaint(() => measure("cockpit:draw-all", start));
  }
}

// The count is in the page: the first time, measured once it is painted.
export function countShown() {
  if (counted) return;
  counted = true;
  afterPaint(() => measure("cockpit:first-count", 0));
}

function measure(name, start) {
  if (performance.getEntriesByName(name, "measure").length >= KEPT) performance.clearMeasures(name);
  performance.measure(name, { start, end: performance.now() });
}

// The next frame is painted before a task queued from its animation frame runs.
function afterPaint(then) {
  requestAnimationFrame(() => setTimeout(then, 0));
}
