package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Decode parses a request body into v (a pointer to one of this package's request
// types) strictly: the body must be one JSON object, every key must be a field of
// the type (compared exactly: encoding/json alone would take "Model" for "model"
// and drop unknown keys), and every value must have the field's JSON type. Errors
// are *ParamError naming the field with its full path ("messages[3].content").
// Fields of type json.RawMessage (unions such as content or stop) are checked by
// the conversions that parse them.
func Decode(data []byte, v any) error {
	// A body that fits is read twice (the check, then encoding/json); only a
	// refused one goes through decodeChecked, which re-reads it as often as it
	// needs to name the first fault exactly as before.
	if t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && fits(data, t.Elem()) {
		if err := json.Unmarshal(data, v); err != nil {
			// fits accepted every value, so this is a case it does not model.
			return paramErr("", "invalid request body: %v", err)
		}
		return nil
	}
	return decodeChecked(data, v)
}

// decodeChecked is Decode for a body fits refused: it finds the fault, or
// decodes a body fits is stricter about (duplicate or escaped keys).
func decodeChecked(data []byte, v any) error {
	if !json.Valid(data) {
		var probe any
		err := json.Unmarshal(data, &probe)
		if err == nil {
			err = fmt.Errorf("not valid JSON")
		}
		return paramErr("", "invalid JSON body: %v", err)
	}
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("decode: %T is not a pointer to a struct", v) // programmer error
	}
	raw := bytes.TrimSpace(data)
	if len(raw) == 0 || raw[0] != '{' {
		return paramErr("", "the request body must be a JSON object")
	}
	if err := checkValue(raw, t.Elem(), ""); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		// checkValue accepted every value, so this is a case it does not model.
		return paramErr("", "invalid request body: %v", err)
	}
	return nil
}

// decodeStrict is Decode for a value inside the body, with its path for errors.
func decodeStrict(raw json.RawMessage, path string, v any) error {
	if err := checkValue(raw, reflect.TypeOf(v).Elem(), path); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return paramErr(path, "invalid value: %v", err)
	}
	return nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// checkValue verifies that raw fits type t, recursively, so that json.Unmarshal
// cannot fail and unknown object keys are refused. JSON null fits every type (it
// leaves the zero value, as encoding/json does).
func checkValue(raw json.RawMessage, t reflect.Type, path string) error {
	if t == rawMessageType || string(raw) == "null" {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkValue(raw, t.Elem(), path)
	case reflect.Interface:
		return nil
	case reflect.Struct:
		return checkObject(raw, t, path)
	case reflect.Map:
		var m map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
			return typeErr(path, "an object", raw)
		}
		for k, v := range m {
			if err := checkValue(v, t.Elem(), joinPath(path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		var list []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
			return typeErr(path, "an array", raw)
		}
		for i, v := range list {
			if err := checkValue(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		if raw[0] != '"' {
			return typeErr(path, "a string", raw)
		}
		return nil
	case reflect.Bool:
		if s := string(raw); s != "true" && s != "false" {
			return typeErr(path, "a boolean", raw)
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !isNumber(raw) {
			return typeErr(path, "an integer", raw)
		}
		if _, err := strconv.ParseInt(string(raw), 10, t.Bits()); err != nil {
			return paramErr(path, "must be an integer in range, got %s", clip(raw))
		}
		return nil
	case reflect.Float32, reflect.Float64:
		if !isNumber(raw) {
			return typeErr(path, "a number", raw)
		}
		if _, err := strconv.ParseFloat(string(raw), t.Bits()); err != nil {
			return paramErr(path, "number out of range: %s", clip(raw))
		}
		return nil
	}
	return fmt.Errorf("decode: unsupported field type %s at %s", t, path) // programmer error
}

func checkObject(raw json.RawMessage, t reflect.Type, path string) error {
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return typeErr(path, "an object", raw)
	}
	fields := fieldsOf(t)
	for k, v := range m {
		f, ok := fields[k]
		if !ok {
			return &ParamError{Param: joinPath(path, k), Code: "unknown_parameter",
				Message: fmt.Sprintf("unrecognized request argument supplied: %s", k)}
		}
		if err := checkValue(v, f, joinPath(path, k)); err != nil {
			return err
		}
	}
	return nil
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// fieldsOf maps a struct's JSON names to field types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range fieldsOf(f.Type) { // promoted, as encoding/json does
				m[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNumber(raw json.RawMessage) bool {
	c := raw[0]
	return c == '-' || (c >= '0' && c <= '9')
}

func typeErr(path, want string, raw json.RawMessage) *ParamError {
	return paramErr(path, "must be %s, got %s", want, kindOf(raw))
}

// kindOf names the JSON type of a (valid) value for error messages.
func kindOf(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number (" + clip(raw) + ")"
}

func clip(raw json.RawMessage) string {
	if len(raw) > 32 {
		return string(raw[:32]) + "…"
	}
	return string(raw)
}
