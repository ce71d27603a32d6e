// Package xctask runs XC Scenario tasks written in Go: it speaks the runner's
// stdin/stdout protocol (version 1) for them. Standard library only.
//
// A task image's main function hands Run one Handler per task name:
//
//	func main() {
//		xctask.Run(xctask.Tasks{"add": add})
//	}
//
//	func add(t *xctask.Task) (xctask.Outputs, error) {
//		a, err := t.Int("a")
//		if err != nil {
//			return nil, err // Error "input 'a' is not an integer: ..."
//		}
//		t.Progress(0.5, "adding")
//		return xctask.Outputs{"sum": a + 1}, nil
//	}
//
// Run reads the task envelope on stdin, calls the handler it names, and
// writes the task's messages on stdout, one compact JSON object per line.
// Nothing else reaches stdout: os.Stdout is pointed at stderr, so fmt.Println
// and log output are logs. The task ends:
//   - Completed with the outputs the handler returns, or passes to Task.Result;
//   - Error with the message of the error the handler returns (Fail sets an
//     error level), or the one it passes to Task.Error;
//   - Error "panic (TYPE): VALUE" when the handler panics, with the stack on
//     stderr: a division by zero ends in
//     "panic (runtime.Error): runtime error: integer divide by zero", and
//     panic(errors.New("boom")) in "panic (*errors.errorString): boom".
//
// The first terminal message wins; later ones are dropped with a warning on
// stderr. Wrong arguments to Progress, Error and Fail (a fraction outside
// [0, 1], an unknown level) are programming errors: they panic, so the task
// ends in Error naming them. A panic in another goroutine cannot be recovered:
// it kills the process, and the runner reports the exit and the end of stderr.
//
// Exit status: 0 once the task ran, whatever its outcome; 2 when it could not
// start (bad envelope, unknown task), after an Error message saying why.
package xctask

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
)

const (
	// ProtocolVersion is the envelope's "protocol" this package speaks.
	ProtocolVersion = 1
	// SDKVersion is this package's version (task_images/sdk/VERSION of the runner).
	SDKVersion = "1.1.0"
	// MaxEnvelopeBytes caps what is read from stdin.
	MaxEnvelopeBytes = 64 << 20
	// ExitOK is the exit status once the task ran (its outcome is in the messages).
	ExitOK = 0
	// ExitSetup is the exit status when the task could not start.
	ExitSetup = 2
)

// Level is an Error message's errorLevel.
type Level string

// The error levels the protocol knows; NoLevel sends none.
const (
	NoLevel       Level = ""
	LevelNone     Level = "None"
	LevelMinor    Level = "Minor"
	LevelCritical Level = "Critical"
	LevelFatal    Level = "Fatal"
)

func (l Level) valid() bool {
	switch l {
	case NoLevel, LevelNone, LevelMinor, LevelCritical, LevelFatal:
		return true
	}
	return false
}

// Outputs are a task's output values by name; any value encoding/json encodes.
type Outputs = map[string]any

// Handler runs one task: it returns its outputs, or an error that fails it.
type Handler func(t *Task) (Outputs, error)

// Tasks maps each task name the image's catalog declares to its handler.
type Tasks map[string]Handler

// TaskError is a failure a task reports on purpose: its Message is the Error
// message as is, with its Level.
type TaskError struct {
	Message string
	Level   Level
}

func (e *TaskError) Error() string { return e.Message }

// UsageError is what Progress, Error and Fail panic with when given wrong arguments.
type UsageError struct{ Problem string }

func (e *UsageError) Error() string { return e.Problem }

func checkLevel(caller string, level Level) {
	if !level.valid() {
		panic(&UsageError{fmt.Sprintf(
			"xctask.%s: error level %q is not one of None, Minor, Critical, Fatal", caller, level)})
	}
}

// Fail returns an error that ends the task in Error with this message and level.
func Fail(level Level, format string, args ...any) error {
	checkLevel("Fail", level)
	return &TaskError{Message: fmt.Sprintf(format, args...), Level: level}
}

// Task is one task instance: its envelope, and the messages it sends.
type Task struct {
	Namespace  string
	Name       string
	InstanceID string
	// Inputs are the envelope's inputs as decoded JSON; numbers are json.Number.
	// The accessors String, Int, Float and Bool check and convert them.
	Inputs map[string]any
	ch     *channel
}

type notifyMessage struct {
	Type       string   `json:"type"`
	Status     string   `json:"status"`
	Message    string   `json:"message,omitempty"`
	Progress   *float64 `json:"progressPercentage,omitempty"`
	ErrorLevel Level    `json:"errorLevel,omitempty"`
}

type resultMessage struct {
	Type    string  `json:"type"`
	Outputs Outputs `json:"outputs"`
}

// channel writes protocol messages, each in one Write; the first terminal one wins.
type channel struct {
	mu       sync.Mutex
	out      io.Writer
	log      io.Writer
	finished bool
}

func encode(message any) ([]byte, error) {
	var buf bytes.Buffer
	encoder := json.NewEncoder(&buf) // Encode ends the line with "\n"
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(message); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (c *channel) warn(format string, args ...any) {
	fmt.Fprintf(c.log, "xctask: "+format+"\n", args...)
}

func (c *channel) send(message any, what string, terminal bool) {
	line, err := encode(message)
	if err != nil { // the message types above always encode; outputs are checked first
		c.warn("cannot encode a %s message: %v", what, err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		c.warn("dropped a %s message sent after the task's terminal message", what)
		return
	}
	c.finished = terminal
	if _, err := c.out.Write(line); err != nil {
		c.warn("cannot write a %s message: %v", what, err)
	}
}

func (c *channel) isFinished() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finished
}

func (c *channel) sendError(message string, level Level) {
	c.send(notifyMessage{Type: "notify", Status: "Error", Message: message, ErrorLevel: level},
		"Error", true)
}

// Progress reports an InProgress status: fraction is the part done, from 0 to 1.
func (t *Task) Progress(fraction float64, message string) {
	if math.IsNaN(fraction) || fraction < 0 || fraction > 1 {
		panic(&UsageError{fmt.Sprintf(
			"xctask.Progress: fraction %v is not a finite number in [0, 1]", fraction)})
	}
	t.ch.send(notifyMessage{
		Type: "notify", Status: "InProgress", Message: message, Progress: &fraction,
	}, "InProgress", false)
}

// Result ends the task in Completed with these outputs (nil means none).
func (t *Task) Result(outputs Outputs) {
	if outputs == nil {
		outputs = Outputs{}
	}
	if _, err := encode(outputs); err != nil {
		t.ch.sendError(fmt.Sprintf("task outputs are not JSON: %v", err), NoLevel)
		return
	}
	t.ch.send(resultMessage{Type: "result", Outputs: outputs}, "result", true)
}

// Error ends the task in Error with this message and level (NoLevel: none).
func (t *Task) Error(message string, level Level) {
	checkLevel("Error", level)
	t.ch.sendError(message, level)
}

// Run serves the task the stdin envelope names and exits; see the package doc.
func Run(tasks Tasks) {
	protocolOut := os.Stdout
	os.Stdout = os.Stderr
	os.Exit(Serve(os.Stdin, protocolOut, os.Stderr, tasks))
}

// Serve is Run without the exit: messages go to stdout, logs to stderr, and it
// returns the exit status.
func Serve(stdin io.Reader, stdout, stderr io.Writer, tasks Tasks) int {
	code, _ := serveTask(stdin, stdout, stderr, tasks)
	return code
}

// serveTask is Serve that also returns the error the handler returned (or its panic as
// one), for Call.
func serveTask(stdin io.Reader, stdout, stderr io.Writer, tasks Tasks) (int, error) {
	ch := &channel{out: stdout, log: stderr}
	env, err := readEnvelope(stdin)
	if err != nil {
		ch.sendError("invalid envelope: "+err.Error(), NoLevel)
		return ExitSetup, nil
	}
	handler := tasks[env.task]
	if handler == nil {
		ch.sendError(fmt.Sprintf("unknown task '%s': this image's tasks are %s",
			env.task, taskNames(tasks)), NoLevel)
		return ExitSetup, nil
	}
	t := &Task{
		Namespace: env.namespace, Name: env.task, InstanceID: env.instanceID,
		Inputs: env.inputs, ch: ch,
	}
	outputs, err := call(handler, t)
	t.finish(outputs, err)
	return ExitOK, err
}

func taskNames(tasks Tasks) string {
	names := make([]string, 0, len(tasks))
	for name := range tasks {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// call runs the handler, turning a panic into an error naming its type and value.
func call(handler Handler, t *Task) (outputs Outputs, err error) {
	defer func() {
		if value := recover(); value != nil {
			fmt.Fprintf(t.ch.log, "panic: %v\n\n%s", value, debug.Stack())
			outputs, err = nil, &TaskError{Message: fmt.Sprintf("panic (%s): %v", typeName(value), value)}
		}
	}()
	return handler(t)
}

// typeName is a panic value's type; runtime.Error for the runtime's own panics
// (division by zero, index out of range, nil dereference), whose concrete
// types change between Go versions.
func typeName(value any) string {
	if _, ok := value.(runtime.Error); ok {
		return "runtime.Error"
	}
	return fmt.Sprintf("%T", value)
}

func (t *Task) finish(outputs Outputs, err error) {
	if err != nil {
		level := NoLevel
		var taskErr *TaskError
		if errors.As(err, &taskErr) {
			level = taskErr.Level
		}
		if !level.valid() {
			t.ch.warn("error level %q is not one of None, Minor, Critical, Fatal: not sent", level)
			level = NoLevel
		}
		t.ch.sendError(err.Error(), level)
		return
	}
	if t.ch.isFinished() {
		if outputs != nil {
			t.ch.warn("the task returned outputs after its terminal message; they are ignored")
		}
		return
	}
	t.Result(outputs)
}
