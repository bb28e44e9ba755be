package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
)

// handleRerank is POST /v1/rerank (and /rerank, llama-server's path): a
// cross-encoder's relevance of each document to the query, best first.
func (s *Server) handleRerank(c echo.Context) error {
	var req openai.RerankRequest
	eng, rr, err := prepareV1(s, c, &req, func() string { return req.Model },
		func(r *openai.Rerank) string { return r.Request.Model })
	if err != nil {
		return err
	}
	res, err := eng.Rerank(c.Request().Context(), rr.Request)
	if err != nil {
		return engineError(req.Model, err)
	}
	v1Usage(c, res.Model, engine.Usage{PromptTokens: res.PromptTokens}, 0)
	return c.JSON(http.StatusOK, openai.RerankFrom(req.Model, rr, res))
}
