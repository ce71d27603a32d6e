package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"xc-scenario-runner.invalid/xctask"
)

var tasks = xctask.Tasks{"divide": divide, "count_primes": countPrimes, "sqrt": squareRoot}

// run serves one envelope and returns its messages, the terminal one last.
func run(t *testing.T, task, inputs string) []map[string]any {
	t.Helper()
	stdin := `{"protocol": 1, "task": "` + task + `", "inputs": ` + inputs + "}"
	var stdout, stderr bytes.Buffer
	if code := xctask.Serve(strings.NewReader(stdin), &stdout, &stderr, tasks); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var messages []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		var message map[string]any
		if err := json.Unmarshal([]byte(line), &message); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		messages = append(messages, message)
	}
	return messages
}

func expect(t *testing.T, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestDivide(t *testing.T) {
	expect(t, run(t, "divide", `{"dividend": "-42", "divisor": 6}`)[0], map[string]any{
		"type":    "result",
		"outputs": map[string]any{"quotient": -7.0, "remainder": 0.0, "ratio": -7.0, "exact": true},
	})
}

func TestDivideByZeroIsAPanic(t *testing.T) {
	expect(t, run(t, "divide", `{"dividend": 1, "divisor": 0}`)[0], map[string]any{
		"type": "notify", "status": "Error",
		"message": "panic (runtime.Error): runtime error: integer divide by zero",
	})
}

func TestCountPrimesReportsEachTenth(t *testing.T) {
	messages := run(t, "count_primes", `{"limit": 1000}`)
	if len(messages) != 11 {
		t.Fatalf("%d messages: %v", len(messages), messages)
	}
	expect(t, messages[0], map[string]any{"type": "notify", "status": "InProgress",
		"message": "25 primes up to 100", "progressPercentage": 0.1})
	expect(t, messages[10], map[string]any{"type": "result",
		"outputs": map[string]any{"count": 168.0, "largest": 997.0}})
}

func TestCountPrimesRefusesAHugeLimit(t *testing.T) {
	expect(t, run(t, "count_primes", `{"limit": 10000001}`)[0], map[string]any{
		"type": "notify", "status": "Error", "errorLevel": "Minor",
		"message": "limit 10000001 is over the maximum of 10000000",
	})
}

func TestSquareRoot(t *testing.T) {
	expect(t, run(t, "sqrt", `{"x": "2.25"}`)[0],
		map[string]any{"type": "result", "outputs": map[string]any{"root": 1.5}})
	expect(t, run(t, "sqrt", `{"x": -4}`)[0], map[string]any{
		"type": "notify", "status": "Error", "errorLevel": "Critical",
		"message": "cannot take the square root of -4: it is negative",
	})
}
