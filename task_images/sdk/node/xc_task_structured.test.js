// Tests of xc_task.js's accessors of structured inputs (Object, and inputs with
// allowMultipleValues), each run as its own node process, as in a container.
//   node --test task_images/sdk/node/
'use strict';

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const test = require('node:test');

const SDK = path.join(__dirname, 'xc_task.js');
const INPUTS = {
  point: { lat: 48.85, lon: 2.35, tags: ['a'] },
  names: ['a', ''],
  ints: [1, ' -7 ', '+3', 3.0],
  floats: [0.5, '1e-3', 2],
  bools: [true, 'False'],
  objects: [{ a: 1 }, {}],
  empty: [],
  bad_ints: [1, 'x'],
  holes: ['a', null],
  text: '[1]',
  arr: [1],
};

// What `read` (a function of the task) returns or throws, from a task process.
function read(body) {
  const script = `const xc = require(${JSON.stringify(SDK)});
    xc.run({ t(task) { try { return { v: (${body})(task) }; }
      catch (err) { return { error: err.message, name: err.name }; } } });`;
  const stdin = `${JSON.stringify({ protocol: 1, task: 't', inputs: INPUTS })}\n`;
  const proc = spawnSync(process.execPath, ['-e', script], { input: stdin, timeout: 30000 });
  const lines = proc.stdout.toString('utf8').trim().split('\n');
  assert.equal(lines.length, 1, proc.stderr.toString());
  return JSON.parse(lines[0]).outputs;
}

test('an Object input is its object', () => {
  assert.deepEqual(read("(t) => t.object('point')"), { v: INPUTS.point });
  assert.deepEqual(read("(t) => t.object('arr')"),
    { error: "input 'arr' is not a JSON object: [1]", name: 'TaskError' });
  assert.deepEqual(read("(t) => t.object('text')"),
    { error: 'input \'text\' is not a JSON object: "[1]"', name: 'TaskError' });
  assert.deepEqual(read("(t) => t.object('absent')"),
    { error: "input 'absent' is missing", name: 'TaskError' });
});

test('each item of a multi-value input is read as its type reads one value', () => {
  assert.deepEqual(read("(t) => t.strings('names')"), { v: ['a', ''] });
  assert.deepEqual(read("(t) => t.integers('ints')"), { v: [1, -7, 3, 3] });
  assert.deepEqual(read("(t) => t.numbers('floats')"), { v: [0.5, 0.001, 2] });
  assert.deepEqual(read("(t) => t.booleans('bools')"), { v: [true, false] });
  assert.deepEqual(read("(t) => t.objects('objects')"), { v: [{ a: 1 }, {}] });
  assert.deepEqual(read("(t) => t.integers('empty')"), { v: [] });
});

test('a wrong item is named by its index', () => {
  const wrong = (error) => ({ error, name: 'TaskError' });
  assert.deepEqual(read("(t) => t.integers('bad_ints')"),
    wrong('input \'bad_ints[1]\' is not an integer: "x"'));
  assert.deepEqual(read("(t) => t.strings('holes')"), wrong("input 'holes[1]' is missing"));
  assert.deepEqual(read("(t) => t.strings('text')"),
    wrong('input \'text\' is not a list (a JSON array): "[1]"'));
  assert.deepEqual(read("(t) => t.objects('ints')"), wrong("input 'ints[0]' is not a JSON object: 1"));
  assert.deepEqual(read("(t) => t.booleans('absent')"), wrong("input 'absent' is missing"));
});
