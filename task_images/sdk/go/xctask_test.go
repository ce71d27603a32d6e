package xctask

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

type served struct {
	code     int
	messages []map[string]any
	stderr   string
}

// checkLines decodes stdout: every line one compact JSON protocol message, valid UTF-8.
func checkLines(t *testing.T, stdout []byte) []map[string]any {
	t.Helper()
	if len(stdout) > 0 && stdout[len(stdout)-1] != '\n' {
		t.Fatalf("stdout does not end with a newline: %q", stdout)
	}
	var messages []map[string]any
	for _, line := range strings.SplitAfter(string(stdout), "\n") {
		if line == "" {
			continue
		}
		if !utf8.ValidString(line) {
			t.Fatalf("not UTF-8: %q", line)
		}
		var message map[string]any
		if err := json.Unmarshal([]byte(line), &message); err != nil {
			t.Fatalf("not a JSON object: %q: %v", line, err)
		}
		kind := message["type"]
		if kind != "notify" && kind != "result" {
			t.Fatalf("not a protocol message: %q", line)
		}
		messages = append(messages, message)
	}
	return messages
}

func serve(t *testing.T, stdin string, tasks Tasks) served {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Serve(strings.NewReader(stdin), &stdout, &stderr, tasks)
	return served{code, checkLines(t, stdout.Bytes()), stderr.String()}
}

func envelopeOf(task string, inputs map[string]any) string {
	data, _ := json.Marshal(map[string]any{
		"protocol": 1, "namespace": "test", "task": task, "taskInstanceId": "ti-1",
		"inputs": inputs,
	})
	return string(data) + "\n"
}

func errorMessage(text string) map[string]any {
	return map[string]any{"type": "notify", "status": "Error", "message": text}
}

func resultOf(outputs map[string]any) map[string]any {
	return map[string]any{"type": "result", "outputs": outputs}
}

func assertMessages(t *testing.T, got served, want ...map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got.messages, want) {
		t.Fatalf("messages:\n got %v\nwant %v\nstderr: %s", got.messages, want, got.stderr)
	}
}

func TestResultFromTheReturnedOutputs(t *testing.T) {
	got := serve(t, envelopeOf("add", map[string]any{"a": 2, "b": "40"}), Tasks{
		"add": func(t *Task) (Outputs, error) {
			a, err := t.Int("a")
			if err != nil {
				return nil, err
			}
			b, err := t.Int("b")
			if err != nil {
				return nil, err
			}
			return Outputs{"sum": a + b, "text": "<&>"}, nil
		},
	})
	assertMessages(t, got, resultOf(map[string]any{"sum": 42.0, "text": "<&>"}))
	if got.code != ExitOK {
		t.Fatalf("exit %d", got.code)
	}
}

func TestNilOutputsAreAnEmptyResult(t *testing.T) {
	got := serve(t, envelopeOf("nothing", nil), Tasks{
		"nothing": func(t *Task) (Outputs, error) { return nil, nil },
	})
	assertMessages(t, got, resultOf(map[string]any{}))
}

func TestProgressThenResult(t *testing.T) {
	got := serve(t, envelopeOf("steps", nil), Tasks{
		"steps": func(t *Task) (Outputs, error) {
			t.Progress(0, "starting")
			t.Progress(0.5, "")
			t.Progress(1, "done")
			return Outputs{}, nil
		},
	})
	assertMessages(t, got,
		map[string]any{"type": "notify", "status": "InProgress", "message": "starting",
			"progressPercentage": 0.0},
		map[string]any{"type": "notify", "status": "InProgress", "progressPercentage": 0.5},
		map[string]any{"type": "notify", "status": "InProgress", "message": "done",
			"progressPercentage": 1.0},
		resultOf(map[string]any{}))
}

func TestAReturnedErrorIsTheErrorMessage(t *testing.T) {
	got := serve(t, envelopeOf("fails", nil), Tasks{
		"fails": func(t *Task) (Outputs, error) { return nil, errors.New("disk full") },
	})
	assertMessages(t, got, errorMessage("disk full"))
	if got.code != ExitOK {
		t.Fatalf("exit %d", got.code)
	}
}

func TestFailSetsTheLevelEvenWhenWrapped(t *testing.T) {
	got := serve(t, envelopeOf("fails", nil), Tasks{
		"fails": func(t *Task) (Outputs, error) {
			return nil, fmt.Errorf("step 2: %w", Fail(LevelCritical, "no %s", "luck"))
		},
	})
	assertMessages(t, got, map[string]any{
		"type": "notify", "status": "Error", "message": "step 2: no luck", "errorLevel": "Critical",
	})
}

func TestAPanicNamesItsTypeAndValue(t *testing.T) {
	zero := 0
	got := serve(t, envelopeOf("divide", nil), Tasks{
		"divide": func(t *Task) (Outputs, error) { return Outputs{"q": 1 / zero}, nil },
	})
	assertMessages(t, got,
		errorMessage("panic (runtime.Error): runtime error: integer divide by zero"))
	if !strings.Contains(got.stderr, "goroutine") {
		t.Fatalf("no stack on stderr: %s", got.stderr)
	}
	got = serve(t, envelopeOf("boom", nil), Tasks{
		"boom": func(t *Task) (Outputs, error) { panic("boom") },
	})
	assertMessages(t, got, errorMessage("panic (string): boom"))
}

func TestTheFirstTerminalMessageWins(t *testing.T) {
	got := serve(t, envelopeOf("twice", nil), Tasks{
		"twice": func(t *Task) (Outputs, error) {
			t.Error("first", LevelMinor)
			t.Result(Outputs{"x": 1})
			t.Progress(0.5, "late")
			return Outputs{"y": 2}, errors.New("third")
		},
	})
	assertMessages(t, got, map[string]any{
		"type": "notify", "status": "Error", "message": "first", "errorLevel": "Minor",
	})
	if n := strings.Count(got.stderr, "dropped"); n != 3 {
		t.Fatalf("%d dropped warnings, want 3: %s", n, got.stderr)
	}
}

func TestAResultThenReturnedOutputsAreIgnored(t *testing.T) {
	got := serve(t, envelopeOf("early", nil), Tasks{
		"early": func(t *Task) (Outputs, error) {
			t.Result(Outputs{"x": "1"})
			return Outputs{"y": "2"}, nil
		},
	})
	assertMessages(t, got, resultOf(map[string]any{"x": "1"}))
	if !strings.Contains(got.stderr, "ignored") {
		t.Fatalf("no warning: %s", got.stderr)
	}
}

func TestBadArgumentsFailTheTask(t *testing.T) {
	cases := map[string]struct {
		handler Handler
		want    string
	}{
		"fraction above 1": {func(t *Task) (Outputs, error) { t.Progress(1.5, "x"); return nil, nil },
			"panic (*xctask.UsageError): xctask.Progress: fraction 1.5 is not a finite number in [0, 1]"},
		"negative fraction": {func(t *Task) (Outputs, error) { t.Progress(-0.1, "x"); return nil, nil },
			"panic (*xctask.UsageError): xctask.Progress: fraction -0.1 is not a finite number in [0, 1]"},
		"NaN fraction": {func(t *Task) (Outputs, error) { t.Progress(math.NaN(), "x"); return nil, nil },
			"panic (*xctask.UsageError): xctask.Progress: fraction NaN is not a finite number in [0, 1]"},
		"infinite fraction": {func(t *Task) (Outputs, error) { t.Progress(math.Inf(1), ""); return nil, nil },
			"panic (*xctask.UsageError): xctask.Progress: fraction +Inf is not a finite number in [0, 1]"},
		"unknown level": {func(t *Task) (Outputs, error) { t.Error("x", "Severe"); return nil, nil },
			`panic (*xctask.UsageError): xctask.Error: error level "Severe" is not one of None, Minor, Critical, Fatal`},
		"unknown level in Fail": {func(t *Task) (Outputs, error) { return nil, Fail("bad", "x") },
			`panic (*xctask.UsageError): xctask.Fail: error level "bad" is not one of None, Minor, Critical, Fatal`},
		"outputs that are not JSON": {func(t *Task) (Outputs, error) { return Outputs{"x": math.NaN()}, nil },
			"task outputs are not JSON: json: unsupported value: NaN"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			assertMessages(t, serve(t, envelopeOf("task", nil), Tasks{"task": c.handler}),
				errorMessage(c.want))
		})
	}
}

func TestAnInvalidLevelInATaskErrorIsNotSent(t *testing.T) {
	got := serve(t, envelopeOf("task", nil), Tasks{
		"task": func(t *Task) (Outputs, error) { return nil, &TaskError{"bad", "Severe"} },
	})
	assertMessages(t, got, errorMessage("bad"))
	if !strings.Contains(got.stderr, `"Severe"`) {
		t.Fatalf("no warning: %s", got.stderr)
	}
}

func TestMessagesAreValidUTF8(t *testing.T) {
	got := serve(t, envelopeOf("task", nil), Tasks{
		"task": func(t *Task) (Outputs, error) {
			t.Progress(0.1, "bad \xff byte, line\nbreak, \u2028")
			return Outputs{"s": "\xfe"}, nil
		},
	})
	if got.messages[0]["message"] != "bad \ufffd byte, line\nbreak, \u2028" {
		t.Fatalf("message: %q", got.messages[0]["message"])
	}
	assertMessages(t, served{messages: got.messages[1:]}, resultOf(map[string]any{"s": "\ufffd"}))
}

func TestSetupErrors(t *testing.T) {
	tasks := Tasks{"b": func(t *Task) (Outputs, error) { return nil, nil }, "a": nil}
	cases := map[string]string{
		"":                               "invalid envelope: no envelope on stdin",
		"[1]":                            "invalid envelope: not a JSON object",
		"{":                              "invalid envelope: not JSON: unexpected end of JSON input",
		`{"protocol": 2, "task": "b"}`:   "invalid envelope: unsupported protocol 2: this SDK speaks protocol 1",
		`{"protocol": "1", "task": "b"}`: `invalid envelope: unsupported protocol "1": this SDK speaks protocol 1`,
		`{"task": "b"}`:                  "invalid envelope: unsupported protocol (none): this SDK speaks protocol 1",
		`{"protocol": 1}`:                "invalid envelope: no task name",
		`{"protocol": 1, "task": 3}`:     "invalid envelope: no task name",
		`{"protocol": 1, "task": "b", "inputs": 1}`: "invalid envelope: the inputs are not a JSON object",
		`{"protocol": 1, "task": "nope"}`:           "unknown task 'nope': this image's tasks are a, b",
		`{"protocol": 1, "task": "a"}`:              "unknown task 'a': this image's tasks are a, b",
	}
	for stdin, want := range cases {
		got := serve(t, stdin, tasks)
		assertMessages(t, got, errorMessage(want))
		if got.code != ExitSetup {
			t.Fatalf("%q: exit %d", stdin, got.code)
		}
	}
}

func TestTheEnvelopeFields(t *testing.T) {
	var seen *Task
	stdin := `{"protocol": 1, "namespace": "ns", "task": "t", "taskInstanceId": 42, "extra": [1]}`
	serve(t, stdin, Tasks{"t": func(t *Task) (Outputs, error) { seen = t; return nil, nil }})
	if seen.Namespace != "ns" || seen.Name != "t" || seen.InstanceID != "42" || len(seen.Inputs) != 0 {
		t.Fatalf("task: %+v", seen)
	}
}

func TestInputAccessors(t *testing.T) {
	stdin := `{"protocol": 1, "task": "t", "inputs": {"s": "text", "i": 12345678901234567,
		"is": " -7 ", "ip": "+3", "i3": 3.0, "f": 0.5, "fs": "1e-3", "fi": 2,
		"b": true, "bs": "False", "none": null}}`
	serve(t, stdin, Tasks{"t": func(task *Task) (Outputs, error) {
		check := func(name string, got, want any, err error) {
			if err != nil || got != want {
				t.Errorf("%s: got %v (%v), want %v", name, got, err, want)
			}
		}
		s, err := task.String("s")
		check("s", s, "text", err)
		for name, want := range map[string]int64{"i": 12345678901234567, "is": -7, "ip": 3, "i3": 3} {
			n, err := task.Int(name)
			check(name, n, want, err)
		}
		for name, want := range map[string]float64{"f": 0.5, "fs": 0.001, "fi": 2, "is": -7} {
			f, err := task.Float(name)
			check(name, f, want, err)
		}
		b, err := task.Bool("b")
		check("b", b, true, err)
		b, err = task.Bool("bs")
		check("bs", b, false, err)
		return nil, nil
	}})
}

func TestInputErrorsNameTheInput(t *testing.T) {
	stdin := `{"protocol": 1, "task": "t", "inputs": {"s": 1, "i": "1.5", "f": "1e999",
		"n": "NaN", "b": "yes", "none": null, "x": "0x10"}}`
	serve(t, stdin, Tasks{"t": func(task *Task) (Outputs, error) {
		expect := func(err error, want string) {
			var taskErr *TaskError
			if !errors.As(err, &taskErr) || err.Error() != want {
				t.Errorf("got %v, want %s", err, want)
			}
		}
		_, err := task.String("s")
		expect(err, "input 's' is not a string: 1")
		_, err = task.Int("i")
		expect(err, `input 'i' is not a 64-bit integer: "1.5"`)
		_, err = task.Int("x")
		expect(err, `input 'x' is not a 64-bit integer: "0x10"`)
		_, err = task.Float("f")
		expect(err, `input 'f' is not a finite number: "1e999"`)
		_, err = task.Float("n")
		expect(err, `input 'n' is not a finite number: "NaN"`)
		_, err = task.Bool("b")
		expect(err, `input 'b' is not a boolean: "yes"`)
		_, err = task.String("none")
		expect(err, "input 'none' is missing")
		_, err = task.Int("absent")
		expect(err, "input 'absent' is missing")
		return nil, nil
	}})
}

// Run itself, in a child process (this test binary, re-executed): only
// protocol messages reach stdout, whatever the task prints.
func TestRunKeepsStdoutForMessages(t *testing.T) {
	if os.Getenv("XCTASK_TEST_CHILD") == "1" {
		Run(Tasks{"chatty": func(t *Task) (Outputs, error) {
			fmt.Println("printed with fmt.Println")
			fmt.Fprintln(os.Stdout, `{"type": "result", "outputs": {"forged": "yes"}}`)
			return Outputs{"ok": true}, nil
		}})
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunKeepsStdoutForMessages$")
	cmd.Env = append(os.Environ(), "XCTASK_TEST_CHILD=1")
	cmd.Stdin = strings.NewReader(envelopeOf("chatty", nil))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v: %s", err, stderr.String())
	}
	assertMessages(t, served{messages: checkLines(t, stdout.Bytes())},
		resultOf(map[string]any{"ok": true}))
	for _, text := range []string{"printed with fmt.Println", "forged"} {
		if !strings.Contains(stderr.String(), text) {
			t.Errorf("%q not on stderr: %s", text, stderr.String())
		}
	}
}

func TestSecretReadsItsFileAsText(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/api_token", []byte("t0ken-value\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XC_TASK_SECRETS_DIR", dir)
	task := &Task{}
	if value, err := task.Secret("api_token"); err != nil || value != "t0ken-value" {
		t.Fatalf("got %q, %v", value, err)
	}
	if _, err := Secret("other"); err == nil || !strings.Contains(err.Error(), "secret 'other' is not given") {
		t.Fatalf("a missing secret: %v", err)
	}
	if _, err := Secret("../api_token"); err == nil || !strings.Contains(err.Error(), "not a secret name") {
		t.Fatalf("a path: %v", err)
	}
}

func TestTheTaskStartsAtTheEnvelopesLineWithoutWaitingForTheEndOfStdin(t *testing.T) {
	reader, writer := io.Pipe()
	defer writer.Close() // stdin stays open while the task runs
	go func() { _, _ = writer.Write([]byte(envelopeOf("t", map[string]any{"n": 1}))) }()
	done := make(chan served, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		tasks := Tasks{"t": func(t *Task) (Outputs, error) { return Outputs{"n": t.Inputs["n"]}, nil }}
		code := Serve(reader, &stdout, &stderr, tasks)
		done <- served{code, checkLines(t, stdout.Bytes()), stderr.String()}
	}()
	select {
	case got := <-done:
		assertMessages(t, got, resultOf(map[string]any{"n": float64(1)}))
	case <-time.After(10 * time.Second):
		t.Fatal("the task waited for the end of stdin")
	}
}

func TestAnEnvelopeOverSeveralLinesIsReadToTheEnd(t *testing.T) {
	stdin := "{\n  \"protocol\": 1,\n  \"task\": \"t\",\n  \"inputs\": {\"n\": 2}\n}\n"
	tasks := Tasks{"t": func(t *Task) (Outputs, error) { return Outputs{"n": t.Inputs["n"]}, nil }}
	assertMessages(t, serve(t, stdin, tasks), resultOf(map[string]any{"n": float64(2)}))
}
