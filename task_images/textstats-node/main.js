// textstats: a task image in Node.js (namespace "textstats"), on the xc_task SDK
// (task_images/sdk/node/xc_task.js, copied into the image as node_modules/xc_task.js).
// Its catalog is catalog.json; its examples are examples.json.
'use strict';

const { run, TaskError } = require('xc_task');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const characters = (text) => Array.from(text); // code points, not UTF-16 units

run({
  // Outputs as strings (baseType String), like the reference worker's samples.
  word_count(task) {
    const text = task.string('text');
    const words = text.split(/\s+/).filter((word) => word.length > 0).length;
    // Like `wc -l`, plus a last line without a newline: "a\nb" has 2 lines.
    const lines = text === '' ? 0 : text.split(/\r\n|\r|\n/).length - (/(\r\n|\r|\n)$/.test(text) ? 1 : 0);
    return { words: String(words), lines: String(lines), characters: String(characters(text).length) };
  },

  // Reports its progress once a second.
  async slow_upper(task) {
    const text = task.string('text');
    const secondsText = task.string('seconds');
    if (!/^\s*\+?\d+\s*$/.test(secondsText)) {
      throw new TaskError(`Incorrect value '${secondsText}' for seconds, should be a non-negative integer`);
    }
    const seconds = parseInt(secondsText, 10);
    task.progress(0, `Upper-casing ${characters(text).length} characters in ${seconds} seconds.`);
    for (let i = 1; i <= seconds; i += 1) {
      await sleep(1000);
      task.progress(i / seconds, `${i} of ${seconds} seconds`);
    }
    return { upper: text.toUpperCase() };
  },

  // Typed inputs and outputs: Integer, Boolean.
  excerpt(task) {
    const text = characters(task.string('text'));
    const start = task.integer('start');
    const length = task.integer('length');
    if (start < 0 || length < 0) {
      throw new TaskError(`start (${start}) and length (${length}) must not be negative`);
    }
    if (start > text.length) {
      throw new TaskError(`start ${start} is past the end of the text (${text.length} characters)`, 'Minor');
    }
    const truncated = start + length < text.length;
    const cut = text.slice(start, start + length).join('');
    return {
      excerpt: truncated && task.boolean('ellipsis') ? `${cut}…` : cut,
      characters: text.length,
      truncated,
    };
  },

  // Invalid JSON fails the task with the parser's exception:
  // "SyntaxError: Unexpected end of JSON input".
  json_keys(task) {
    const value = JSON.parse(task.string('json'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new TaskError(`the JSON is ${Array.isArray(value) ? 'an array' : `a ${value === null ? 'null' : typeof value}`}, not an object`);
    }
    const keys = Object.keys(value);
    return { keys: keys.join(','), count: keys.length };
  },
});
