// {{name}}: the unit tests of its tasks, run in this process as the runner would run
// them in a container (xctask.Call), with no container engine:
//
//	go test ./...
package main

import (
	"reflect"
	"testing"

	"xc-scenario-runner.invalid/xctask"
)

func TestHelloGreetsAsManyTimesAsAsked(t *testing.T) {
	done := xctask.Call(tasks, "hello", map[string]any{"who": "you", "times": 2})
	if done.Status != "Completed" || done.Outputs["greeting"] != "Hello, you! Hello, you!" {
		t.Fatalf("got %+v", done)
	}
	want := []xctask.Progress{{Fraction: 0.5, Message: "greeting you 2 times"}}
	if !reflect.DeepEqual(done.Progress, want) {
		t.Fatalf("progress: got %+v, want %+v", done.Progress, want)
	}
}

func TestHelloRefusesTooManyTimesAsAMinorError(t *testing.T) {
	done := xctask.Call(tasks, "hello", map[string]any{"who": "you", "times": 1001})
	if done.Status != "Error" || done.Level != xctask.LevelMinor ||
		done.Message != "times must be from 0 to 1000, not 1001" {
		t.Fatalf("got %+v", done)
	}
}
