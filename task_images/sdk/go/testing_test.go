package xctask

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCallSeesOutputsAndProgress(t *testing.T) {
	tasks := Tasks{"hello": func(t *Task) (Outputs, error) {
		who, err := t.String("who")
		if err != nil {
			return nil, err
		}
		t.Progress(0.5, "greeting "+who)
		return Outputs{"greeting": "Hello, " + who + "!", "n": 2}, nil
	}}
	done := Call(tasks, "hello", map[string]any{"who": "you"})
	if done.Status != "Completed" || done.Err != nil || done.Message != "" {
		t.Fatalf("got %+v", done)
	}
	want := map[string]any{"greeting": "Hello, you!", "n": float64(2)}
	if !reflect.DeepEqual(done.Outputs, want) {
		t.Fatalf("outputs: got %v, want %v", done.Outputs, want)
	}
	if !reflect.DeepEqual(done.Progress, []Progress{{0.5, "greeting you"}}) {
		t.Fatalf("progress: got %v", done.Progress)
	}
	if len(done.Messages) != 2 {
		t.Fatalf("messages: got %v", done.Messages)
	}
}

type quotaError struct{ left int }

func (e *quotaError) Error() string { return "over quota" }

func TestCallSeesTheErrorItsLevelAndItsType(t *testing.T) {
	tasks := Tasks{
		"minor": func(t *Task) (Outputs, error) { return nil, Fail(LevelMinor, "times is %d", -1) },
		"typed": func(t *Task) (Outputs, error) { return nil, &quotaError{left: 3} },
		"panic": func(t *Task) (Outputs, error) { panic("boom") },
		"input": func(t *Task) (Outputs, error) {
			_, err := t.Int("n")
			return nil, err
		},
	}
	done := Call(tasks, "minor", nil)
	if done.Status != "Error" || done.Message != "times is -1" || done.Level != LevelMinor {
		t.Fatalf("minor: got %+v", done)
	}
	done = Call(tasks, "typed", nil)
	var quota *quotaError
	if done.Message != "over quota" || !errors.As(done.Err, &quota) || quota.left != 3 {
		t.Fatalf("typed: got %+v", done)
	}
	done = Call(tasks, "panic", nil)
	if done.Message != "panic (string): boom" || !strings.Contains(done.Log, "panic: boom") {
		t.Fatalf("panic: got %+v", done)
	}
	done = Call(tasks, "input", map[string]any{"n": "x"})
	if done.Status != "Error" || !strings.Contains(done.Message, "input 'n' is not a 64-bit integer") {
		t.Fatalf("input: got %+v", done)
	}
}

func TestCallOfAnUnknownTaskIsTheRunnersError(t *testing.T) {
	done := Call(Tasks{"a": nil, "b": nil}, "c", nil)
	if done.Status != "Error" || done.Message != "unknown task 'c': this image's tasks are a, b" {
		t.Fatalf("got %+v", done)
	}
}
