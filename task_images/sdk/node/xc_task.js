// xc_task: run XC Scenario tasks written in Node.js (protocol 1). One module,
// no npm dependencies, Node.js 18 or later.
//
//   const { run, TaskError } = require('xc_task');
//   run({
//     async add(task) {
//       const a = task.integer('a');                 // 42 or "42"; TaskError otherwise
//       task.progress(0.5, 'adding');
//       const token = task.secret('api_token');      // /run/secrets/api_token, if given
//       return { sum: a + task.integer('b') };       // Completed with these outputs
//     },
//   });
//
// run() reads the envelope on stdin, calls the task it names with a Task, and
// writes the task's messages on stdout, one JSON object per line. Nothing else
// reaches stdout: console.log and process.stdout are pointed at stderr (a child
// process given stdio 'inherit' still gets fd 1: give it process.stderr). The task
// ends Completed with the object it returns (or passes to task.result()), or in
// Error: with the message of a TaskError it throws (or passes to task.error()),
// or "<Name>: <message>" for any other exception or rejection, also one thrown
// later from a callback ("TypeError: x is not a function"). The first terminal
// message wins; later ones are dropped with a warning on stderr. Wrong
// arguments (a fraction outside [0, 1], an unknown level) throw, so the task
// fails naming them. Exit status: 0 once the task ran, whatever its outcome;
// 2 when it could not start (bad envelope, unknown task).
'use strict';

const fs = require('fs');
const path = require('path');

const PROTOCOL = 1;
const SDK_VERSION = '1.1.0'; // task_images/sdk/VERSION of the runner
const MAX_ENVELOPE_BYTES = 64 * 1024 * 1024;
const ERROR_LEVELS = ['None', 'Minor', 'Critical', 'Fatal'];
const EXIT_OK = 0;
const EXIT_SETUP = 2;
const INTEGER_TEXT = /^\s*[-+]?[0-9]+\s*$/;
const NUMBER_TEXT = /^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$/;
// JSON.stringify writes a lone surrogate as the escape \udXXX (a backslash
// before it is escaped itself, hence the even run of backslashes).
const LONE_SURROGATE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;
// Where the runner puts the secrets a task image declares (the convention of Docker and
// Swarm secrets); XC_TASK_SECRETS_DIR moves it, for a task run outside a container.
const SECRETS_DIR = '/run/secrets';
const SECRET_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?$/;

// The secret the runner gives the task's image under `name`, as text, surrounding
// whitespace (a final newline) removed; a TaskError when the image is given no such secret.
function secret(name) {
  if (typeof name !== 'string' || !SECRET_NAME.test(name) || name.includes('..')) {
    throw new TypeError(`not a secret name: ${shown(name)}`);
  }
  const file = path.join(process.env.XC_TASK_SECRETS_DIR || SECRETS_DIR, name);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
    throw new TaskError(`secret '${name}' is not given to this task (no ${file}): the runner's `
      + "configuration declares an image's secrets");
  }
}

// A failure the task reports on purpose: its message is the Error message as is.
class TaskError extends Error {
  constructor(message, level) {
    super(message);
    checkLevel(level);
    this.name = 'TaskError';
    this.level = level === undefined ? null : level;
  }
}

// The task could not start: exit status 2.
class SetupError extends TaskError {}

function checkLevel(level) {
  if (level !== undefined && level !== null && !ERROR_LEVELS.includes(level)) {
    throw new RangeError(`error level ${JSON.stringify(level)} is not one of ${ERROR_LEVELS.join(', ')}`);
  }
}

function checkText(what, text) {
  if (text !== undefined && text !== null && typeof text !== 'string') {
    throw new TypeError(`${what} must be a string, not ${typeof text}`);
  }
}

function warn(text) {
  process.stderr.write(`xc_task: ${text}\n`);
}

// The protocol's stdout: each message one line, handed to `write` (run's writes
// synchronously to fd 1, so none is lost when the process exits right after), the first
// terminal one wins.
class Channel {
  constructor(write) {
    this.write = write;
    this.finished = false;
  }

  send(message, terminal) {
    const what = message.type === 'result' ? 'result' : message.status;
    if (this.finished) {
      warn(`dropped a ${what} message sent after the task's terminal message`);
      return;
    }
    this.finished = terminal;
    // A lone surrogate is no character: U+FFFD, as the other SDKs do with invalid text.
    const line = JSON.stringify(message).replace(LONE_SURROGATE, '$1\ufffd');
    this.write(Buffer.from(`${line}\n`, 'utf8'));
  }
}

function writeAll(fd, buffer) {
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(fd, buffer, offset);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // a full pipe: wait 1 ms
    }
  }
}

// JSON.stringify writes NaN and Infinity as null: refuse them instead.
function finiteNumbers(key, value) {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`output value ${key ? `'${key}' ` : ''}${value} is not a finite number`);
  }
  return value;
}

// A value as it is shown in a message: its JSON, cut at 100 characters.
function shown(value) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    text = undefined;
  }
  if (text === undefined) text = String(value);
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}

class Task {
  constructor(envelope, channel) {
    this.namespace = envelope.namespace;
    this.name = envelope.task;
    this.instanceId = envelope.taskInstanceId;
    this.inputs = envelope.inputs;
    this._channel = channel;
  }

  get finished() {
    return this._channel.finished;
  }

  // InProgress: fraction is the part done, a finite number from 0 to 1.
  progress(fraction, message) {
    if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
      throw new RangeError(`progress fraction ${shown(fraction)} is not a finite number in [0, 1]`);
    }
    checkText('progress message', message);
    const out = { type: 'notify', status: 'InProgress' };
    if (message !== undefined && message !== null) out.message = message;
    out.progressPercentage = fraction;
    this._channel.send(out, false);
  }

  // Completed with these outputs (an object; nothing means none).
  result(outputs) {
    const values = outputs === undefined || outputs === null ? {} : outputs;
    if (typeof values !== 'object' || Array.isArray(values)) {
      throw new TypeError(`task outputs must be an object, not ${Array.isArray(values) ? 'an array' : typeof values}`);
    }
    JSON.stringify(values, finiteNumbers); // throws on NaN, BigInt, cycles
    this._channel.send({ type: 'result', outputs: values }, true);
  }

  // Error with this message; level: None, Minor, Critical, Fatal, or nothing.
  error(message, level) {
    checkText('error message', message);
    checkLevel(level);
    const out = { type: 'notify', status: 'Error', message: message === undefined ? '' : message };
    if (level !== undefined && level !== null) out.errorLevel = level;
    this._channel.send(out, true);
  }

  _input(name) {
    const value = this.inputs[name];
    if (value === undefined || value === null) throw new TaskError(`input '${name}' is missing`);
    return value;
  }

  // The input's value, a string.
  string(name) {
    const value = this._input(name);
    if (typeof value !== 'string') throw new TaskError(`input '${name}' is not a string: ${shown(value)}`);
    return value;
  }

  // The input's value as an integer: a JSON integer, or a string holding one (" -7 ").
  // Beyond Number.MAX_SAFE_INTEGER it is refused rather than rounded.
  integer(name) {
    const value = this._input(name);
    const number = typeof value === 'string' && INTEGER_TEXT.test(value) ? Number(value) : value;
    if (!Number.isSafeInteger(number)) {
      throw new TaskError(`input '${name}' is not an integer: ${shown(value)}`);
    }
    return number;
  }

  // The input's value as a number: a JSON number, or a string holding one ("1e-3").
  number(name) {
    const value = this._input(name);
    const number = typeof value === 'string' && NUMBER_TEXT.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number)) {
      throw new TaskError(`input '${name}' is not a finite number: ${shown(value)}`);
    }
    return number;
  }

  // The input's value as a boolean: true/false, or their text in any case.
  boolean(name) {
    const value = this._input(name);
    if (typeof value === 'boolean') return value;
    const text = typeof value === 'string' ? value.toLowerCase() : null;
    if (text === 'true' || text === 'false') return text === 'true';
    throw new TaskError(`input '${name}' is not a boolean: ${shown(value)}`);
  }

  // The secret `name` (see the module's secret()).
  secret(name) {
    return secret(name);
  }

  // Structured inputs: a catalog type Object (Json, Map) arrives as a JSON object,
  // and an input with allowMultipleValues as a JSON array of its type's values. An
  // item of a list is read as its type's accessor reads one value (Integer: 42 or
  // "42"), and a TaskError names it as 'name[i]'.

  // The input's value, a JSON object (not an array).
  object(name) {
    const value = this._input(name);
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new TaskError(`input '${name}' is not a JSON object: ${shown(value)}`);
    }
    return value;
  }

  // A multi-value String input: an array of strings.
  strings(name) {
    return listOf(this, name, Task.prototype.string);
  }

  // A multi-value Integer input: each item a safe integer, or its text.
  integers(name) {
    return listOf(this, name, Task.prototype.integer);
  }

  // A multi-value Number input: each item a finite number, or its text.
  numbers(name) {
    return listOf(this, name, Task.prototype.number);
  }

  // A multi-value Boolean input: each item true or false, or their text.
  booleans(name) {
    return listOf(this, name, Task.prototype.boolean);
  }

  // A multi-value Object input: an array of JSON objects.
  objects(name) {
    return listOf(this, name, Task.prototype.object);
  }
}

// Each item of the array input `name` read with `read`, as the only input of its own,
// 'name[i]'.
function listOf(task, name, read) {
  const value = task._input(name);
  if (!Array.isArray(value)) {
    throw new TaskError(`input '${name}' is not a list (a JSON array): ${shown(value)}`);
  }
  return value.map((item, index) => {
    const key = `${name}[${index}]`;
    return read.call(new Task({ inputs: { [key]: item } }, null), key);
  });
}

// The envelope from stdin. The runner writes it on one line: the task starts once that line
// is in, without waiting for the end of stdin. A first line that is not a whole JSON value
// (an envelope typed over several lines) is read on to the end.
function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let lineTried = false;
    const done = (text) => {
      process.stdin.removeAllListeners('data');
      process.stdin.removeAllListeners('end');
      process.stdin.pause();
      resolve(text);
    };
    process.stdin.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_ENVELOPE_BYTES) {
        process.stdin.destroy();
        reject(new SetupError(`invalid envelope: larger than ${MAX_ENVELOPE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
      if (lineTried || !chunk.includes(0x0a)) return;
      lineTried = true;
      const data = Buffer.concat(chunks);
      const line = data.subarray(0, data.indexOf(0x0a) + 1).toString('utf8');
      try {
        JSON.parse(line);
      } catch {
        return; // not the whole envelope: read on to the end
      }
      done(line);
    });
    process.stdin.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function parseEnvelope(text) {
  if (text.trim() === '') throw new SetupError('invalid envelope: no envelope on stdin');
  let envelope;
  try {
    envelope = JSON.parse(text);
  } catch (err) {
    throw new SetupError(`invalid envelope: not JSON (${err.message})`);
  }
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    throw new SetupError('invalid envelope: not a JSON object');
  }
  if (envelope.protocol !== PROTOCOL) {
    throw new SetupError(`invalid envelope: unsupported protocol ${JSON.stringify(envelope.protocol)}: this SDK speaks protocol ${PROTOCOL}`);
  }
  if (typeof envelope.task !== 'string' || envelope.task === '') {
    throw new SetupError('invalid envelope: no task name');
  }
  const inputs = envelope.inputs === undefined || envelope.inputs === null ? {} : envelope.inputs;
  if (typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new SetupError('invalid envelope: the inputs are not a JSON object');
  }
  return { ...envelope, inputs };
}

// "<Name>: <message>" of an exception; a TaskError's message as is.
function describe(err) {
  if (err instanceof TaskError) return err.message;
  if (err instanceof Error) return err.message ? `${err.name}: ${err.message}` : err.name;
  return `${err === null ? 'null' : typeof err}: ${String(err)}`;
}

// console.log and process.stdout write to stdout: point them at stderr, where
// they are log output and cannot break a protocol message.
function keepStdoutForMessages() {
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
  Object.defineProperty(process, 'stdout', { configurable: true, get: () => process.stderr });
}

// Serve the task the stdin envelope names, with the handlers in `tasks` by name.
function run(tasks) {
  keepStdoutForMessages();
  const channel = new Channel((buffer) => writeAll(1, buffer));
  const fail = (err) => {
    if (!(err instanceof TaskError)) console.error(err instanceof Error && err.stack ? err.stack : err);
    if (!channel.finished) {
      const level = err instanceof TaskError ? err.level : null;
      channel.send({ type: 'notify', status: 'Error', message: describe(err), ...(level ? { errorLevel: level } : {}) }, true);
    } else {
      warn(`after the terminal message: ${describe(err)}`);
    }
    process.exit(err instanceof SetupError ? EXIT_SETUP : EXIT_OK);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  // Without a handler, a process that is a container's PID 1 ignores SIGTERM.
  process.on('SIGTERM', () => process.exit(143));
  serve(tasks, channel).then(() => process.exit(EXIT_OK), fail);
}

async function serve(tasks, channel) {
  await execute(tasks, parseEnvelope(await readStdin()), channel);
}

// Call the task the envelope names; what it throws is thrown (run sends it as the Error).
async function execute(tasks, envelope, channel) {
  const handler = Object.prototype.hasOwnProperty.call(tasks, envelope.task) ? tasks[envelope.task] : undefined;
  if (typeof handler !== 'function') {
    throw new SetupError(`unknown task '${envelope.task}': this image's tasks are ${Object.keys(tasks).sort().join(', ')}`);
  }
  const task = new Task(envelope, channel);
  const outputs = await handler(task);
  if (!channel.finished) {
    task.result(outputs);
  } else if (outputs !== undefined) {
    warn('the task returned outputs after its terminal message; they are ignored');
  }
}

module.exports = { run, secret, Task, TaskError, ERROR_LEVELS, PROTOCOL, SDK_VERSION };
// For xc_task_testing.js, which runs a task in this process as run() would.
Object.defineProperty(module.exports, 'internals', {
  value: { Channel, execute, describe, parseEnvelope },
});
