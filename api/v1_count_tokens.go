package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
)

// handleCountTokens is Anthropic's POST /v1/messages/count_tokens: the prompt
// tokens a Messages request would take (system, messages and tools through the
// model's template), without generating.
func (s *Server) handleCountTokens(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req openai.MessagesRequest
	if err := decodeV1(c, &req); err != nil {
		return err
	}
	auditRecord(c).Model = req.Model
	if req.MaxTokens == nil {
		one := 1 // count_tokens takes no max_tokens; the conversion requires one
		req.MaxTokens = &one
	}
	d, err := s.v1Defaults(c, req.Model)
	if err != nil {
		return err
	}
	msgs, err := req.Engine(d)
	if err != nil {
		return v1Error(err)
	}
	auditRecord(c).Model = msgs.Request.Model
	n, err := eng.CountChatTokens(c.Request().Context(), msgs.Request)
	if err != nil {
		return engineError(req.Model, err)
	}
	return c.JSON(http.StatusOK, map[string]int{"input_tokens": n})
}
