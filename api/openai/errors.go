package openai

import "fmt"

// ParamError is a request refused with 400 that names the field at fault.
type ParamError struct {
	Param   string // the request field, e.g. "messages[2].content[0].type"; "" for the body as a whole
	Code    string // an OpenAI error code when there is one, e.g. "unsupported_parameter"
	Message string
}

func (e *ParamError) Error() string {
	if e.Param == "" {
		return e.Message
	}
	return e.Param + ": " + e.Message
}

func paramErr(param, format string, args ...any) *ParamError {
	return &ParamError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// unsupported refuses a documented field we cannot honour.
func unsupported(param, format string, args ...any) *ParamError {
	return &ParamError{Param: param, Code: "unsupported_parameter", Message: fmt.Sprintf(format, args...)}
}

// unsupportedValue refuses a documented value of a field we otherwise honour.
func unsupportedValue(param, format string, args ...any) *ParamError {
	return &ParamError{Param: param, Code: "unsupported_value", Message: fmt.Sprintf(format, args...)}
}
