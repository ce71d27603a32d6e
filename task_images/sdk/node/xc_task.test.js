// Tests of xc_task.js: each runs a small task script as its own node process,
// with an envelope on stdin, and checks every line it writes on stdout.
//   node --test task_images/sdk/node/xc_task.test.js
'use strict';

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const SDK = path.join(__dirname, 'xc_task.js');
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'xc-task-node-'));
process.on('exit', () => fs.rmSync(WORK, { recursive: true, force: true }));

// Runs `body` (the code after `const xc = require(SDK)`) with `stdin`.
function runTask(body, stdin) {
  const script = path.join(WORK, `task-${Math.random().toString(16).slice(2)}.js`);
  fs.writeFileSync(script, `'use strict';\nconst xc = require(${JSON.stringify(SDK)});\n${body}\n`);
  const proc = spawnSync(process.execPath, [script], { input: stdin, timeout: 30000 });
  const stdout = proc.stdout.toString('utf8');
  assert.ok(stdout === '' || stdout.endsWith('\n'), `stdout does not end with a newline: ${stdout}`);
  assert.ok(Buffer.from(stdout, 'utf8').equals(proc.stdout), 'stdout is not valid UTF-8');
  const messages = stdout.split('\n').filter((line) => line !== '').map((line) => {
    const message = JSON.parse(line);
    assert.ok(['notify', 'result'].includes(message.type), `not a protocol message: ${line}`);
    return message;
  });
  return { code: proc.status, messages, stderr: proc.stderr.toString('utf8') };
}

function envelope(task, inputs) {
  return `${JSON.stringify({ protocol: 1, namespace: 'test', task, taskInstanceId: 'ti-1', inputs })}\n`;
}

const error = (message, level) => ({ type: 'notify', status: 'Error', message, ...(level ? { errorLevel: level } : {}) });
const result = (outputs) => ({ type: 'result', outputs });

test('a returned object is the result', () => {
  const run = runTask("xc.run({ add: (t) => ({ sum: t.integer('a') + t.integer('b') }) });",
    envelope('add', { a: 2, b: ' 40 ' }));
  assert.deepEqual(run.messages, [result({ sum: 42 })]);
  assert.equal(run.code, 0);
});

test('an async task, its progress, and nothing returned is an empty result', () => {
  const run = runTask(`xc.run({ async steps(t) {
      t.progress(0, 'starting');
      await new Promise((resolve) => setTimeout(resolve, 10));
      t.progress(1);
    } });`, envelope('steps', {}));
  assert.deepEqual(run.messages, [
    { type: 'notify', status: 'InProgress', message: 'starting', progressPercentage: 0 },
    { type: 'notify', status: 'InProgress', progressPercentage: 1 },
    result({}),
  ]);
});

test('a TaskError is the Error message as is, with its level', () => {
  const run = runTask("xc.run({ t() { throw new xc.TaskError('disk full', 'Critical'); } });", envelope('t', {}));
  assert.deepEqual(run.messages, [error('disk full', 'Critical')]);
  assert.equal(run.code, 0);
});

test('an exception names its type and message, with the stack on stderr', () => {
  const run = runTask('xc.run({ t() { null.x; } });', envelope('t', {}));
  assert.equal(run.messages.length, 1);
  assert.match(run.messages[0].message, /^TypeError: Cannot read properties of null/);
  assert.match(run.stderr, /at t \(/);
});

test('an exception without a message is its type; a thrown non-Error its type and value', () => {
  assert.deepEqual(runTask('xc.run({ t() { throw new RangeError(); } });', envelope('t', {})).messages,
    [error('RangeError')]);
  assert.deepEqual(runTask("xc.run({ t() { throw 'boom'; } });", envelope('t', {})).messages,
    [error('string: boom')]);
  assert.deepEqual(runTask('xc.run({ async t() { return Promise.reject(7); } });', envelope('t', {})).messages,
    [error('number: 7')]);
});

test('an exception thrown later from a callback fails the task too', () => {
  const run = runTask(`xc.run({ t() {
      return new Promise(() => setTimeout(() => { throw new SyntaxError('late'); }, 5));
    } });`, envelope('t', {}));
  assert.deepEqual(run.messages, [error('SyntaxError: late')]);
  assert.equal(run.code, 0);
});

test('the first terminal message wins', () => {
  const run = runTask(`xc.run({ t(t) {
      t.error('first', 'Minor');
      t.result({ x: 1 });
      t.progress(0.5, 'late');
      return { y: 2 };
    } });`, envelope('t', {}));
  assert.deepEqual(run.messages, [error('first', 'Minor')]);
  assert.equal(run.stderr.match(/dropped/g).length, 2);
  assert.match(run.stderr, /ignored/);
});

test('wrong arguments fail the task, naming them', () => {
  const cases = [
    ["t.progress(1.5, 'x')", 'RangeError: progress fraction 1.5 is not a finite number in [0, 1]'],
    ["t.progress(-0.1)", 'RangeError: progress fraction -0.1 is not a finite number in [0, 1]'],
    ["t.progress(NaN)", 'RangeError: progress fraction null is not a finite number in [0, 1]'],
    ["t.progress(Infinity)", 'RangeError: progress fraction null is not a finite number in [0, 1]'],
    ["t.progress('0.5')", 'RangeError: progress fraction "0.5" is not a finite number in [0, 1]'],
    ['t.progress()', 'RangeError: progress fraction undefined is not a finite number in [0, 1]'],
    ['t.progress(0.5, 3)', 'TypeError: progress message must be a string, not number'],
    ["t.error('x', 'Severe')", 'RangeError: error level "Severe" is not one of None, Minor, Critical, Fatal'],
    ["throw new xc.TaskError('x', 'bad')", 'RangeError: error level "bad" is not one of None, Minor, Critical, Fatal'],
    ["return 'text'", 'TypeError: task outputs must be an object, not string'],
    ['return [1]', 'TypeError: task outputs must be an object, not an array'],
    ['return { x: NaN }', "TypeError: output value 'x' NaN is not a finite number"],
    ['return { x: 1n }', 'TypeError: Do not know how to serialize a BigInt'],
  ];
  for (const [body, message] of cases) {
    const run = runTask(`xc.run({ t(t) { ${body}; } });`, envelope('t', {}));
    assert.deepEqual(run.messages, [error(message)], body);
  }
});

test('console.log and process.stdout go to stderr', () => {
  const run = runTask(`xc.run({ t() {
      console.log('from console.log');
      process.stdout.write('{"type": "result", "outputs": {"forged": "yes"}}\\n');
      return { ok: true };
    } });`, envelope('t', {}));
  assert.deepEqual(run.messages, [result({ ok: true })]);
  assert.match(run.stderr, /from console\.log/);
  assert.match(run.stderr, /forged/);
});

test('messages are valid UTF-8 JSON, one line each', () => {
  const run = runTask(String.raw`xc.run({ t(t) {
      t.progress(0.5, 'line\nbreak \u2028 \ud800 lone, \\ud800 escaped, \\\udfff lone');
      return { s: 'héllo 😀', ['k\udc00']: 1 };
    } });`, envelope('t', {}));
  assert.equal(run.messages[0].message, 'line\nbreak \u2028 \ufffd lone, \\ud800 escaped, \\\ufffd lone');
  assert.deepEqual(run.messages[1], result({ s: 'héllo 😀', 'k\ufffd': 1 }));
});

test('setup errors exit 2', () => {
  const cases = [
    ['', 'invalid envelope: no envelope on stdin'],
    ['[1]', 'invalid envelope: not a JSON object'],
    ['{"protocol": 2, "task": "t"}', 'invalid envelope: unsupported protocol 2: this SDK speaks protocol 1'],
    ['{"task": "t"}', 'invalid envelope: unsupported protocol undefined: this SDK speaks protocol 1'],
    ['{"protocol": 1}', 'invalid envelope: no task name'],
    ['{"protocol": 1, "task": "t", "inputs": [1]}', 'invalid envelope: the inputs are not a JSON object'],
    ['{"protocol": 1, "task": "nope"}', "unknown task 'nope': this image's tasks are b, t"],
    ['{"protocol": 1, "task": "toString"}', "unknown task 'toString': this image's tasks are b, t"],
  ];
  for (const [stdin, message] of cases) {
    const run = runTask('xc.run({ t: () => ({}), b: () => ({}) });', stdin);
    assert.deepEqual(run.messages, [error(message)], stdin);
    assert.equal(run.code, 2, stdin);
  }
  assert.match(runTask('xc.run({});', 'not json').messages[0].message, /^invalid envelope: not JSON \(/);
});

test('the envelope fields', () => {
  const stdin = '{"protocol": 1, "namespace": "ns", "task": "t", "taskInstanceId": 42, "extra": 1}';
  const run = runTask('xc.run({ t: (t) => ({ seen: [t.namespace, t.name, t.instanceId, t.inputs] }) });', stdin);
  assert.deepEqual(run.messages, [result({ seen: ['ns', 't', 42, {}] })]);
});

test('input accessors convert what the catalog types allow', () => {
  const inputs = { s: 'text', i: 12, is: ' -7 ', ip: '+3', f: 0.5, fs: '1e-3', b: true, bs: 'False' };
  const run = runTask(`xc.run({ t: (t) => ({
      s: t.string('s'), i: t.integer('i'), is: t.integer('is'), ip: t.integer('ip'), i3: t.integer('f2'),
      f: t.number('f'), fs: t.number('fs'), fi: t.number('is'), b: t.boolean('b'), bs: t.boolean('bs'),
    }) });`, envelope('t', { ...inputs, f2: 3.0 }));
  assert.deepEqual(run.messages, [result({
    s: 'text', i: 12, is: -7, ip: 3, i3: 3, f: 0.5, fs: 0.001, fi: -7, b: true, bs: false,
  })]);
});

test('input errors name the input', () => {
  const cases = [
    ["t.string('i')", "input 'i' is not a string: 1"],
    ["t.integer('f')", 'input \'f\' is not an integer: "1.5"'],
    ["t.integer('big')", "input 'big' is not an integer: 12345678901234567000"],
    ["t.integer('hex')", 'input \'hex\' is not an integer: "0x10"'],
    ["t.number('inf')", 'input \'inf\' is not a finite number: "1e999"'],
    ["t.number('nan')", 'input \'nan\' is not a finite number: "NaN"'],
    ["t.boolean('yes')", 'input \'yes\' is not a boolean: "yes"'],
    ["t.string('none')", "input 'none' is missing"],
    ["t.integer('absent')", "input 'absent' is missing"],
  ];
  const stdin = '{"protocol": 1, "task": "t", "inputs": {"i": 1, "f": "1.5", "big": 12345678901234567890, '
    + '"hex": "0x10", "inf": "1e999", "nan": "NaN", "yes": "yes", "none": null}}';
  for (const [body, message] of cases) {
    assert.deepEqual(runTask(`xc.run({ t(t) { ${body}; } });`, stdin).messages, [error(message)], body);
  }
});

test('a secret is read from its file as text', () => {
  const dir = fs.mkdtempSync(path.join(WORK, 'secrets-'));
  fs.writeFileSync(path.join(dir, 'api_token'), 't0ken-value\n');
  process.env.XC_TASK_SECRETS_DIR = dir;
  try {
    const body = "xc.run({ t: (t) => ({ value: t.secret(t.inputs.name) }) });";
    assert.deepEqual(runTask(body, envelope('t', { name: 'api_token' })).messages, [result({ value: 't0ken-value' })]);
    assert.deepEqual(runTask(body, envelope('t', { name: 'other' })).messages, [error(
      `secret 'other' is not given to this task (no ${dir}/other): the runner's configuration declares an image's secrets`,
    )]);
    assert.deepEqual(runTask(body, envelope('t', { name: '../x' })).messages, [error('TypeError: not a secret name: "../x"')]);
  } finally {
    delete process.env.XC_TASK_SECRETS_DIR;
  }
});

test('the task starts at the envelope line, without waiting for the end of stdin', () => {
  // stdin is a FIFO whose writer stays open until the task's result is in.
  const fifo = path.join(WORK, `stdin-${Math.random().toString(16).slice(2)}`);
  spawnSync('mkfifo', [fifo]);
  const script = path.join(WORK, `task-${Math.random().toString(16).slice(2)}.js`);
  fs.writeFileSync(script, `'use strict';\nconst xc = require(${JSON.stringify(SDK)});\n`
    + "xc.run({ t: (t) => ({ n: t.integer('n') }) });\n");
  const shell = `exec 3<>"$1"; printf '%s' "$2" >&3; node "$3" <"$1"; status=$?; exec 3>&-; exit $status`;
  const proc = spawnSync('sh', ['-c', shell, 'sh', fifo, envelope('t', { n: 3 }), script],
    { timeout: 20000 });
  assert.equal(proc.error, undefined, 'the task waited for the end of stdin');
  assert.equal(proc.status, 0, proc.stderr.toString('utf8'));
  assert.deepEqual(JSON.parse(proc.stdout.toString('utf8')), result({ n: 3 }));
});

test('an envelope over several lines is read to the end', () => {
  const stdin = '{\n  "protocol": 1,\n  "task": "t",\n  "inputs": {"n": 4}\n}\n';
  const run = runTask("xc.run({ t: (t) => ({ n: t.integer('n') }) });", stdin);
  assert.deepEqual(run.messages, [result({ n: 4 })]);
});
