package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
)

// handleEmbeddings is POST /v1/embeddings: an embedding model's vectors, pooled
// as its sentence-transformers files say.
func (s *Server) handleEmbeddings(c echo.Context) error {
	if routed, err := s.routeV1(c); routed { // a remote backend answers (v1route.go)
		return err
	}
	var req openai.EmbeddingRequest
	eng, emb, err := prepareV1(s, c, &req, func() string { return req.Model },
		func(e *openai.Embedding) string { return e.Request.Model })
	if err != nil {
		return err
	}
	res, err := eng.Embed(c.Request().Context(), emb.Request)
	if err != nil {
		return engineError(req.Model, err)
	}
	v1Usage(c, res.Model, engine.Usage{PromptTokens: res.PromptTokens}, 0)
	return c.JSON(http.StatusOK, openai.EmbeddingsFrom(req.Model, res, emb.Base64))
}
