package xctask

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Structured inputs: a catalog type Object (Json, Map) arrives as a JSON object,
// and an input with allowMultipleValues as a JSON array of its type's values. An
// item of a list is read as its type's accessor reads one value (Integer: 42 or
// "42"), and an error names it as 'name[i]'.

// Object is the input's value, a JSON object; its numbers are json.Number.
func (t *Task) Object(name string) (map[string]any, error) {
	value, err := t.input(name)
	if err != nil {
		return nil, err
	}
	object, ok := value.(map[string]any)
	if !ok {
		return nil, wrongType(name, "a JSON object", value)
	}
	return object, nil
}

// Decode decodes the input's value into target (a pointer to a struct, a map, a
// slice...), as encoding/json decodes, numbers exactly: an Object input into a
// struct of its fields. A value that does not fit target is a TaskError naming
// the input.
func (t *Task) Decode(name string, target any) error {
	value, err := t.input(name)
	if err != nil {
		return err
	}
	data, err := json.Marshal(value)
	if err != nil {
		return wrongType(name, "JSON", value)
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	if err := decoder.Decode(target); err != nil {
		return &TaskError{Message: fmt.Sprintf("input '%s' does not fit %T: %v", name, target, err)}
	}
	return nil
}

// Strings is a multi-value String input: a JSON array of strings.
func (t *Task) Strings(name string) ([]string, error) {
	return listOf(t, name, (*Task).String)
}

// Ints is a multi-value Integer input: each item a 64-bit integer or its text.
func (t *Task) Ints(name string) ([]int64, error) {
	return listOf(t, name, (*Task).Int)
}

// Floats is a multi-value Number input: each item a finite number or its text.
func (t *Task) Floats(name string) ([]float64, error) {
	return listOf(t, name, (*Task).Float)
}

// Bools is a multi-value Boolean input: each item true, false, or their text.
func (t *Task) Bools(name string) ([]bool, error) {
	return listOf(t, name, (*Task).Bool)
}

// Objects is a multi-value Object input: a JSON array of JSON objects.
func (t *Task) Objects(name string) ([]map[string]any, error) {
	return listOf(t, name, (*Task).Object)
}

// listOf reads each item of the array input `name` with read, as if it were an
// input of its own named 'name[i]'.
func listOf[T any](t *Task, name string, read func(*Task, string) (T, error)) ([]T, error) {
	value, err := t.input(name)
	if err != nil {
		return nil, err
	}
	items, ok := value.([]any)
	if !ok {
		return nil, wrongType(name, "a list (a JSON array)", value)
	}
	values := make([]T, 0, len(items))
	for index, item := range items {
		key := fmt.Sprintf("%s[%d]", name, index)
		one, err := read(&Task{Inputs: map[string]any{key: item}}, key)
		if err != nil {
			return nil, err
		}
		values = append(values, one)
	}
	return values, nil
}
