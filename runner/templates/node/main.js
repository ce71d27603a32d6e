// {{name}}: the tasks of this image, one function each, run by the xc_task SDK.
//
// A function gets the task: its inputs (task.string, task.integer, task.number,
// task.boolean), task.progress(fraction, message) and task.error(message, level);
// it returns its outputs (or a promise of them). Throwing TaskError(message,
// level) fails the task with that message; any other exception fails it with
// "<Name>: <message>". main.test.js calls them without a container.
'use strict';

const { run } = require('./sdk/xc_task');

const tasks = {
  hello(task) {
    const who = task.string('who');
    const times = task.integer('times');
    task.progress(0.5, `greeting ${who} ${times} times`);
    return { greeting: Array(times).fill(`Hello, ${who}!`).join(' ') };
  },
};

if (require.main === module) run(tasks);
module.exports = tasks;
