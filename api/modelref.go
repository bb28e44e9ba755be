package api

import (
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
)

// modelRef parses the model a request names in param. It is the API's one
// check that a request names a model of the models dir and never a folder
// (engine.ParseModelRef); anything else is a 400 invalid_repo_id naming param.
// The /v1 routes, where an unknown name is "model not found" as in OpenAI's
// API, ask engine.IsModelRef instead.
func modelRef(param, name string) (engine.ModelRef, error) {
	ref, err := engine.ParseModelRef(name)
	if err != nil {
		return ref, &Error{Kind: engine.KindInvalid, Code: "invalid_repo_id", Param: param,
			Message: fmt.Sprintf("%s must be a model id (org/name) such as mlx-community/Qwen3-0.6B-4bit, not %q", param, name), Err: err}
	}
	return ref, nil
}

// repoRef is the model of a route's :org and :name parameters.
func repoRef(c echo.Context) (engine.ModelRef, error) { return modelRef("model", repoParam(c)) }
