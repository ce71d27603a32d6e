// xc_task_testing: call a task in this process, as the runner would run it in a
// container, and see how it ended: for a task image's unit tests, with `node --test`
// and no container engine.
//
//   const { call } = require('./sdk/xc_task_testing');
//   const tasks = require('./main');
//
//   test('hello', async () => {
//     const done = await call(tasks, 'hello', { who: 'you', times: 2 });
//     assert.equal(done.status, 'Completed');
//     assert.deepEqual(done.outputs, { greeting: 'Hello, you! Hello, you!' });
//     assert.deepEqual(done.progress, [{ fraction: 0.5, message: 'greeting you 2 times' }]);
//   });
//
// The inputs go through JSON as the envelope carries them (the runner fills in the
// catalog's defaults first; call does not), the task runs as run() runs it, and its
// messages are read back from the protocol's JSON lines, so the outputs are what the
// runner receives. A task that fails ends in 'Error': done.message and done.level are
// what the runner reports, done.error is what the task threw (a TaskError, or any other
// exception: its class). An exception thrown later from a callback, which run() catches
// on the process, is not seen here.
'use strict';

const xc = require('./xc_task');

const { Channel, execute, describe, parseEnvelope } = xc.internals;

// Run task `name` of `tasks` (an object of task functions by name) with these inputs.
async function call(tasks, name, inputs) {
  const lines = [];
  const channel = new Channel((buffer) => lines.push(buffer.toString('utf8')));
  const envelope = parseEnvelope(JSON.stringify({
    protocol: xc.PROTOCOL, namespace: 'test', task: name, taskInstanceId: 'test', inputs: inputs || {},
  }));
  let error = null;
  try {
    await execute(tasks, envelope, channel);
  } catch (err) {
    error = err;
    if (!channel.finished) {
      const level = err instanceof xc.TaskError ? err.level : null;
      channel.send({ type: 'notify', status: 'Error', message: describe(err), ...(level ? { errorLevel: level } : {}) }, true);
    }
  }
  return done(lines.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line)), error);
}

function done(messages, error) {
  const outcome = { status: '', outputs: null, message: null, level: null, error, progress: [], messages };
  for (const message of messages) {
    if (message.type === 'result') {
      Object.assign(outcome, { status: 'Completed', outputs: message.outputs });
    } else if (message.status === 'Error') {
      Object.assign(outcome, { status: 'Error', message: message.message, level: message.errorLevel || null });
    } else {
      outcome.progress.push({ fraction: message.progressPercentage, message: message.message });
    }
  }
  return outcome;
}

module.exports = { call };
