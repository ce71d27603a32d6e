#!/usr/bin/env node
// textstats: an XC Scenario task image written straight against protocol 1,
// with no SDK. Copy this file to write task images in other languages: the
// protocol is only stdin, stdout and JSON.
//
//   stdin   one JSON object, then end of file:
//           {"protocol": 1, "namespace": "textstats", "task": "word_count",
//            "taskInstanceId": "...", "inputs": {"text": "..."}}
//           (ignore the fields you do not know)
//   stdout  one JSON message per line:
//           {"type": "notify", "status": "InProgress", "message": "...", "progressPercentage": 0.5}
//           {"type": "notify", "status": "Error", "message": "..."}     terminal
//           {"type": "result", "outputs": {...}}                         terminal, success
//           The first terminal message wins; any other line is log output.
//   stderr  log output.
//
// The task catalog (catalog.json next to this file) goes in the image label
// `xc-scenario.catalog`; the runner reads it without running the image.
// `node main.js --catalog` prints it too.
//
// Containers run with no network, a read-only root filesystem (only /tmp is
// writable), as uid 65534 and without capabilities.
'use strict';

const fs = require('fs');
const path = require('path');

const PROTOCOL = 1;
const MAX_ENVELOPE_BYTES = 64 * 1024 * 1024;

// ---------------------------------------------------------------- protocol

// Protocol messages are written synchronously to fd 1, one line each, so they
// are never interleaved or lost when the process exits right after.
function send(message) {
  fs.writeSync(1, JSON.stringify(message) + '\n');
}

// console.log writes to stdout too: send it to stderr, where it is log output
// and cannot be mistaken for (or break) a protocol message.
console.log = console.info = console.debug = console.error;

let finished = false;

// The first terminal message wins: later ones are dropped with a warning.
function finish(message) {
  if (finished) {
    console.error(`textstats: dropped a ${message.type} message sent after the terminal one`);
    return;
  }
  finished = true;
  send(message);
}

function progress(message, fraction) {
  if (!finished) {
    send({ type: 'notify', status: 'InProgress', message, progressPercentage: fraction });
  }
}

function fail(message) {
  finish({ type: 'notify', status: 'Error', message });
}

function succeed(outputs) {
  finish({ type: 'result', outputs });
}

// A failure the task reports on purpose: its message is shown as is.
class TaskError extends Error {}
// The task could not even start (bad envelope, unknown task): exit code 2.
class SetupError extends TaskError {}

// ------------------------------------------------------------------- tasks

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function stringInput(inputs, name, defaultValue) {
  const value = inputs[name] === undefined || inputs[name] === null ? defaultValue : inputs[name];
  if (typeof value !== 'string') {
    throw new TaskError(`Input '${name}' is missing or not a string`);
  }
  return value;
}

// Inputs arrive as strings (baseType String); outputs go back as strings.
const TASKS = {
  async word_count(inputs) {
    const text = stringInput(inputs, 'text');
    const words = text.split(/\s+/).filter((word) => word.length > 0).length;
    // Like `wc -l`, plus a last line without a newline: "a\nb" has 2 lines.
    const lines = text === '' ? 0 : text.split(/\r\n|\r|\n/).length - (/(\r\n|\r|\n)$/.test(text) ? 1 : 0);
    const characters = Array.from(text).length; // code points, not UTF-16 units
    return { words: String(words), lines: String(lines), characters: String(characters) };
  },

  async slow_upper(inputs) {
    const text = stringInput(inputs, 'text');
    const secondsText = stringInput(inputs, 'seconds', '2');
    if (!/^\s*\+?\d+\s*$/.test(secondsText)) {
      throw new TaskError(`Incorrect value '${secondsText}' for seconds, should be a non-negative integer`);
    }
    const seconds = parseInt(secondsText, 10);
    progress(`Upper-casing ${Array.from(text).length} characters in ${seconds} seconds.`, 0);
    for (let i = 1; i <= seconds; i += 1) {
      await sleep(1000);
      progress(`${i} of ${seconds} seconds`, i / seconds);
    }
    return { upper: text.toUpperCase() };
  },
};

// -------------------------------------------------------------------- main

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    process.stdin.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_ENVELOPE_BYTES) {
        reject(new SetupError(`invalid envelope: larger than ${MAX_ENVELOPE_BYTES} bytes`));
        process.stdin.destroy();
        return;
      }
      chunks.push(chunk);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function parseEnvelope(text) {
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
    throw new SetupError(`invalid envelope: unsupported protocol ${JSON.stringify(envelope.protocol)}`);
  }
  const inputs = envelope.inputs === undefined ? {} : envelope.inputs;
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new SetupError("invalid envelope: the inputs are not a JSON object");
  }
  return { task: envelope.task, inputs };
}

async function main() {
  if (process.argv[2] === '--catalog') {
    process.stdout.write(fs.readFileSync(path.join(__dirname, 'catalog.json')));
    return;
  }
  const { task, inputs } = parseEnvelope(await readStdin());
  if (!Object.prototype.hasOwnProperty.call(TASKS, task)) {
    throw new SetupError(`unknown task '${task}' in textstats`);
  }
  const outputs = await TASKS[task](inputs);
  succeed(outputs);
}

// Any failure, expected or not, becomes the task's Error message.
function reportFailure(err) {
  if (!(err instanceof TaskError)) {
    console.error(err && err.stack ? err.stack : err);
  }
  const text = err instanceof Error ? err.message : String(err);
  fail(err instanceof TaskError || !(err instanceof Error) ? text : `${err.name}: ${text}`);
  process.exit(err instanceof SetupError ? 2 : 0);
}

process.on('uncaughtException', reportFailure);
process.on('unhandledRejection', reportFailure);
// As a container's PID 1, a process without a handler ignores SIGTERM:
// without this, `docker stop` would wait for its grace period to run out.
process.on('SIGTERM', () => process.exit(143));

main().catch(reportFailure);
