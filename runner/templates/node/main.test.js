// {{name}}: the unit tests of its tasks, run in this process as the runner would run
// them in a container (xc_task_testing's call), with no container engine:
//   node --test
'use strict';

const assert = require('node:assert/strict');
const test = require('node:test');

const { call } = require('./sdk/xc_task_testing');
const tasks = require('./main');

test('hello greets as many times as asked', async () => {
  const done = await call(tasks, 'hello', { who: 'you', times: 2 });
  assert.equal(done.status, 'Completed');
  assert.deepEqual(done.outputs, { greeting: 'Hello, you! Hello, you!' });
  assert.deepEqual(done.progress, [{ fraction: 0.5, message: 'greeting you 2 times' }]);
});

test('hello fails on a times that is not a number', async () => {
  const done = await call(tasks, 'hello', { who: 'you', times: 'many' });
  assert.equal(done.status, 'Error');
  assert.equal(done.message, 'input \'times\' is not an integer: "many"');
});
