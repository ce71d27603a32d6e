package xctask

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

type envelope struct {
	namespace  string
	task       string
	instanceID string
	inputs     map[string]any
}

// readEnvelopeBytes reads the envelope's first line: the runner writes it on one line, so the
// task starts once that line is in, without waiting for the end of stdin. A line that is not
// a whole JSON value (an envelope typed over several lines) is read on to the end.
func readEnvelopeBytes(stdin io.Reader) ([]byte, error) {
	limited := bufio.NewReader(io.LimitReader(stdin, MaxEnvelopeBytes+1))
	data, err := limited.ReadBytes('\n')
	if err == io.EOF {
		return data, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read stdin: %v", err)
	}
	if json.Valid(data) {
		return data, nil
	}
	rest, err := io.ReadAll(limited)
	if err != nil {
		return nil, fmt.Errorf("cannot read stdin: %v", err)
	}
	return append(data, rest...), nil
}

func readEnvelope(stdin io.Reader) (envelope, error) {
	var env envelope
	data, err := readEnvelopeBytes(stdin)
	if err != nil {
		return env, err
	}
	if len(data) > MaxEnvelopeBytes {
		return env, fmt.Errorf("larger than %d bytes", MaxEnvelopeBytes)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return env, errors.New("no envelope on stdin")
	}
	if data[0] != '{' {
		return env, errors.New("not a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return env, fmt.Errorf("not JSON: %v", err)
	}
	if protocol := string(fields["protocol"]); protocol != strconv.Itoa(ProtocolVersion) {
		if protocol == "" {
			protocol = "(none)"
		}
		return env, fmt.Errorf("unsupported protocol %s: this SDK speaks protocol %d",
			protocol, ProtocolVersion)
	}
	if json.Unmarshal(fields["task"], &env.task) != nil || env.task == "" {
		return env, errors.New("no task name")
	}
	_ = json.Unmarshal(fields["namespace"], &env.namespace) // optional, informative only
	env.instanceID = instanceID(fields["taskInstanceId"])
	env.inputs, err = decodeInputs(fields["inputs"])
	return env, err
}

func instanceID(raw json.RawMessage) string {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return text
	}
	return string(raw) // a number, as written
}

func decodeInputs(raw json.RawMessage) (map[string]any, error) {
	inputs := map[string]any{}
	if len(raw) == 0 || string(raw) == "null" {
		return inputs, nil
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber() // integers stay exact
	if raw[0] != '{' || decoder.Decode(&inputs) != nil {
		return nil, errors.New("the inputs are not a JSON object")
	}
	return inputs, nil
}

func (t *Task) input(name string) (any, error) {
	value, ok := t.Inputs[name]
	if !ok || value == nil {
		return nil, &TaskError{Message: fmt.Sprintf("input '%s' is missing", name)}
	}
	return value, nil
}

func wrongType(name, kind string, value any) error {
	shown, _ := json.Marshal(value)
	if len(shown) > 100 {
		shown = append(shown[:100], "..."...)
	}
	return &TaskError{Message: fmt.Sprintf("input '%s' is not %s: %s", name, kind, shown)}
}

// String is the input's value, a JSON string.
func (t *Task) String(name string) (string, error) {
	value, err := t.input(name)
	if err != nil {
		return "", err
	}
	text, ok := value.(string)
	if !ok {
		return "", wrongType(name, "a string", value)
	}
	return text, nil
}

var (
	integerText = regexp.MustCompile(`^[-+]?[0-9]+$`)
	numberText  = regexp.MustCompile(`^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$`)
)

// Int is the input's value as an integer: a JSON integer, or a string holding
// one (" -7 "), as catalog types Integer, Int, Long and Short allow.
func (t *Task) Int(name string) (int64, error) {
	value, err := t.input(name)
	if err != nil {
		return 0, err
	}
	switch v := value.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n, nil
		}
		// 3.0 and 1e3 are integers to JSON Schema too.
		if f, err := v.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f), nil
		}
	case string:
		if text := strings.TrimSpace(v); integerText.MatchString(text) {
			if n, err := strconv.ParseInt(text, 10, 64); err == nil {
				return n, nil
			}
		}
	}
	return 0, wrongType(name, "a 64-bit integer", value)
}

// Float is the input's value as a number: a JSON number, or a string holding
// one ("1e-3"), as catalog types Number, Double, Float and Decimal allow.
func (t *Task) Float(name string) (float64, error) {
	value, err := t.input(name)
	if err != nil {
		return 0, err
	}
	var text string
	switch v := value.(type) {
	case json.Number:
		text = v.String()
	case string:
		text = strings.TrimSpace(v)
	}
	if numberText.MatchString(text) {
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return f, nil
		}
	}
	return 0, wrongType(name, "a finite number", value)
}

// Bool is the input's value as a boolean: true or false, or their text in any
// case ("true", "False"), as catalog types Boolean and Bool allow.
func (t *Task) Bool(name string) (bool, error) {
	value, err := t.input(name)
	if err != nil {
		return false, err
	}
	switch v := value.(type) {
	case bool:
		return v, nil
	case string:
		if strings.EqualFold(v, "true") {
			return true, nil
		}
		if strings.EqualFold(v, "false") {
			return false, nil
		}
	}
	return false, wrongType(name, "a boolean", value)
}
