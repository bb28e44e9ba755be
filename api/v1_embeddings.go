package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
)

// handleEmbeddings is POST /v1/embeddings: mean-pooled, L2-normalised vectors.
func (s *Server) handleEmbeddings(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req openai.EmbeddingRequest
	if err := decodeV1(c, &req); err != nil {
		return err
	}
	auditRecord(c).Model = req.Model
	d, err := s.v1Defaults(req.Model)
	if err != nil {
		return err
	}
	emb, err := req.Engine(d)
	if err != nil {
		return v1Error(err)
	}
	auditRecord(c).Model = emb.Request.Model
	res, err := eng.Embed(c.Request().Context(), emb.Request)
	if err != nil {
		return engineError(req.Model, err)
	}
	v1Usage(c, res.Model, engine.Usage{PromptTokens: res.PromptTokens}, 0)
	return c.JSON(http.StatusOK, openai.EmbeddingsFrom(req.Model, res, emb.Base64))
}
