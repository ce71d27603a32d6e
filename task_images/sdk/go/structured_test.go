package xctask

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

const structuredInputs = `{"protocol": 1, "task": "t", "inputs": {
	"point": {"lat": 48.85, "lon": 2.35, "tags": ["a"], "n": 12345678901234567},
	"names": ["a", ""], "ints": [1, " -7 ", "+3", 3.0], "floats": [0.5, "1e-3", 2],
	"bools": [true, "False"], "objects": [{"a": 1}, {}], "empty": [],
	"bad_ints": [1, "x"], "big": ["9223372036854775808"], "holes": ["a", null],
	"text": "[1]", "arr": [1]}}`

func expectTaskError(t *testing.T, err error, want string) {
	t.Helper()
	var taskErr *TaskError
	if !errors.As(err, &taskErr) || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestObjectAndDecode(t *testing.T) {
	serve(t, structuredInputs, Tasks{"t": func(task *Task) (Outputs, error) {
		object, err := task.Object("point")
		if err != nil || object["lat"] != json.Number("48.85") {
			t.Errorf("Object: %v %v", object, err)
		}
		var point struct {
			Lat, Lon float64
			Tags     []string
			N        int64
		}
		if err := task.Decode("point", &point); err != nil || point.Lat != 48.85 ||
			point.N != 12345678901234567 || !reflect.DeepEqual(point.Tags, []string{"a"}) {
			t.Errorf("Decode: %+v %v", point, err)
		}
		_, err = task.Object("arr")
		expectTaskError(t, err, "input 'arr' is not a JSON object: [1]")
		_, err = task.Object("text")
		expectTaskError(t, err, `input 'text' is not a JSON object: "[1]"`)
		_, err = task.Object("absent")
		expectTaskError(t, err, "input 'absent' is missing")
		var wrong struct{ Lat string }
		err = task.Decode("point", &wrong)
		if err == nil || err.Error()[:34] != "input 'point' does not fit *struct" {
			t.Errorf("Decode into the wrong type: %v", err)
		}
		return nil, nil
	}})
}

func TestMultiValueAccessors(t *testing.T) {
	serve(t, structuredInputs, Tasks{"t": func(task *Task) (Outputs, error) {
		check := func(name string, got, want any, err error) {
			t.Helper()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %v (%v), want %v", name, got, err, want)
			}
		}
		names, err := task.Strings("names")
		check("names", names, []string{"a", ""}, err)
		ints, err := task.Ints("ints")
		check("ints", ints, []int64{1, -7, 3, 3}, err)
		floats, err := task.Floats("floats")
		check("floats", floats, []float64{0.5, 0.001, 2}, err)
		bools, err := task.Bools("bools")
		check("bools", bools, []bool{true, false}, err)
		objects, err := task.Objects("objects")
		check("objects", objects, []map[string]any{{"a": json.Number("1")}, {}}, err)
		empty, err := task.Ints("empty")
		check("empty", empty, []int64{}, err)
		return nil, nil
	}})
}

func TestMultiValueErrorsNameTheItem(t *testing.T) {
	serve(t, structuredInputs, Tasks{"t": func(task *Task) (Outputs, error) {
		_, err := task.Ints("bad_ints")
		expectTaskError(t, err, `input 'bad_ints[1]' is not a 64-bit integer: "x"`)
		_, err = task.Ints("big")
		expectTaskError(t, err, `input 'big[0]' is not a 64-bit integer: "9223372036854775808"`)
		_, err = task.Strings("holes")
		expectTaskError(t, err, "input 'holes[1]' is missing")
		_, err = task.Strings("text")
		expectTaskError(t, err, `input 'text' is not a list (a JSON array): "[1]"`)
		_, err = task.Objects("ints")
		expectTaskError(t, err, "input 'ints[0]' is not a JSON object: 1")
		_, err = task.Bools("absent")
		expectTaskError(t, err, "input 'absent' is missing")
		return nil, nil
	}})
}
