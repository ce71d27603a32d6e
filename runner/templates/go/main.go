// {{name}}: the tasks of this image, one handler each, run by the xctask SDK.
//
// A handler gets the task: its inputs (t.String, t.Int, t.Float, t.Bool),
// t.Progress(fraction, message) and t.Error(message, level); it returns its
// outputs, or an error that fails the task (xctask.Fail sets a level). A panic
// fails it with "panic (TYPE): VALUE". main_test.go calls them without a container.
package main

import (
	"fmt"
	"strings"

	"xc-scenario-runner.invalid/xctask"
)

var tasks = xctask.Tasks{"hello": hello}

func main() {
	xctask.Run(tasks)
}

func hello(t *xctask.Task) (xctask.Outputs, error) {
	who, err := t.String("who")
	if err != nil {
		return nil, err
	}
	times, err := t.Int("times")
	if err != nil {
		return nil, err
	}
	if times < 0 || times > 1000 {
		return nil, xctask.Fail(xctask.LevelMinor, "times must be from 0 to 1000, not %d", times)
	}
	t.Progress(0.5, fmt.Sprintf("greeting %s %d times", who, times))
	greetings := make([]string, times)
	for i := range greetings {
		greetings[i] = "Hello, " + who + "!"
	}
	return xctask.Outputs{"greeting": strings.Join(greetings, " ")}, nil
}
