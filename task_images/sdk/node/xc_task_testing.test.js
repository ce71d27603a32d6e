// Tests of xc_task_testing.js: a task called in this process, as run() would run it.
//   node --test task_images/sdk/node/xc_task_testing.test.js
'use strict';

const assert = require('node:assert/strict');
const test = require('node:test');

const { TaskError } = require('./xc_task');
const { call } = require('./xc_task_testing');

class QuotaError extends Error {}

const tasks = {
  hello(task) {
    const who = task.string('who');
    task.progress(0.5, `greeting ${who}`);
    return { greeting: `Hello, ${who}!`, n: 2 };
  },
  async later(task) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    task.result({ done: true });
  },
  minor() {
    throw new TaskError('times is -1', 'Minor');
  },
  typed() {
    throw new QuotaError('over quota');
  },
  input(task) {
    return { n: task.integer('n') };
  },
};

test('call sees the outputs and the progress', async () => {
  const done = await call(tasks, 'hello', { who: 'you' });
  assert.equal(done.status, 'Completed');
  assert.deepEqual(done.outputs, { greeting: 'Hello, you!', n: 2 });
  assert.deepEqual(done.progress, [{ fraction: 0.5, message: 'greeting you' }]);
  assert.equal(done.error, null);
  assert.equal(done.messages.length, 2);
  assert.deepEqual((await call(tasks, 'later')).outputs, { done: true });
});

test('call sees the error, its level and what was thrown', async () => {
  let done = await call(tasks, 'minor');
  assert.equal(done.status, 'Error');
  assert.equal(done.message, 'times is -1');
  assert.equal(done.level, 'Minor');
  assert.ok(done.error instanceof TaskError);
  done = await call(tasks, 'typed');
  assert.equal(done.message, 'Error: over quota');
  assert.equal(done.level, null);
  assert.ok(done.error instanceof QuotaError);
  done = await call(tasks, 'input', { n: 'x' });
  assert.equal(done.message, "input 'n' is not an integer: \"x\"");
});

test('an unknown task is the runner\'s error', async () => {
  const done = await call(tasks, 'nope');
  assert.equal(done.status, 'Error');
  assert.equal(done.message, "unknown task 'nope': this image's tasks are hello, input, later, minor, typed");
});
