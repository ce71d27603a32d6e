package xctask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Progress is one InProgress message of a task called by Call.
type Progress struct {
	Fraction float64
	Message  string
}

// Outcome is how a task called by Call ended, read from the messages it wrote as
// the runner reads them.
type Outcome struct {
	// Status is "Completed" or "Error".
	Status string
	// Outputs are the Completed outputs as the runner receives them: decoded JSON
	// (numbers are float64, objects map[string]any).
	Outputs map[string]any
	// Message and Level are the Error's message and errorLevel ("" when none).
	Message string
	Level   Level
	// Err is the error the handler returned, its panic as an error, or nil: its type
	// can be checked with errors.As.
	Err error
	// Progress holds the InProgress messages, in order.
	Progress []Progress
	// Messages are the protocol lines the task wrote, decoded; Log is its stderr.
	Messages []map[string]any
	Log      string
}

// Call runs the task `name` of `tasks` in this process, with these inputs, as the
// runner would run it in a container: the inputs go through JSON (as the envelope
// carries them; the runner fills in the catalog's defaults first, Call does not),
// the handler runs as Run runs it (a panic is an Error), and its messages are read
// back. For a task's unit tests, with `go test` and no container:
//
//	func TestHello(t *testing.T) {
//		done := xctask.Call(tasks, "hello", map[string]any{"who": "you", "times": 2})
//		if done.Status != "Completed" || done.Outputs["greeting"] != "Hello, you! Hello, you!" {
//			t.Fatalf("got %+v", done)
//		}
//	}
//
// An input that cannot be encoded as JSON panics: it is the test's own mistake.
func Call(tasks Tasks, name string, inputs map[string]any) Outcome {
	envelope, err := json.Marshal(map[string]any{
		"protocol": ProtocolVersion, "task": name, "inputs": inputs,
		"taskInstanceId": "test", "namespace": "test",
	})
	if err != nil {
		panic(fmt.Sprintf("xctask.Call: the inputs are not JSON: %v", err))
	}
	var stdout, stderr bytes.Buffer
	_, handlerErr := serveTask(bytes.NewReader(envelope), &stdout, &stderr, tasks)
	outcome := Outcome{Err: handlerErr, Log: stderr.String()}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		outcome.read(line)
	}
	return outcome
}

// read takes in one protocol line; the SDK writes only valid ones.
func (o *Outcome) read(line string) {
	var message map[string]any
	if json.Unmarshal([]byte(line), &message) != nil {
		return
	}
	o.Messages = append(o.Messages, message)
	text, _ := message["message"].(string)
	switch {
	case message["type"] == "result":
		o.Status = "Completed"
		o.Outputs, _ = message["outputs"].(map[string]any)
	case message["status"] == "Error":
		o.Status = "Error"
		o.Message = text
		level, _ := message["errorLevel"].(string)
		o.Level = Level(level)
	case message["status"] == "InProgress":
		fraction, _ := message["progressPercentage"].(float64)
		o.Progress = append(o.Progress, Progress{Fraction: fraction, Message: text})
	}
}
