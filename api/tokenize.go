package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
)

// llama-server's utility endpoints, with a model field since this server runs
// many: POST /tokenize, /detokenize and /apply-template, also under /v1.

type tokenizeRequest struct {
	Model      string `json:"model"`
	Content    string `json:"content"`
	AddSpecial bool   `json:"add_special"`
	// ParseSpecial reads special tokens written in the text as those tokens
	// (llama-server's default); false keeps them as text.
	ParseSpecial *bool `json:"parse_special"`
	WithPieces   bool  `json:"with_pieces"`
}

type tokenPiece struct {
	ID    int32  `json:"id"`
	Piece string `json:"piece"`
}

func (s *Server) tokenizeRoutes() {
	e, v1 := s.echo, s.v1Chain()
	for _, prefix := range []string{"", "/v1"} {
		e.POST(prefix+"/tokenize", s.handleTokenize, v1...)
		e.POST(prefix+"/detokenize", s.handleDetokenize, v1...)
		e.POST(prefix+"/apply-template", s.handleApplyTemplate, v1...)
	}
}

// utilityModel resolves a utility request's model like a /v1 request's.
func (s *Server) utilityModel(c echo.Context, name string) (string, error) {
	if name == "" {
		return "", &Error{Kind: engine.KindInvalid, Code: "invalid_value", Param: "model", Message: "model is required: name a downloaded model (org/name) or a profile"}
	}
	auditRecord(c).Model = name
	d, err := s.v1Defaults(c, name)
	if err != nil {
		return "", err
	}
	if d.Model != "" {
		name = d.Model
	}
	auditRecord(c).Model = name
	return name, nil
}

func (s *Server) handleTokenize(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req tokenizeRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	id, err := s.utilityModel(c, req.Model)
	if err != nil {
		return err
	}
	special := req.ParseSpecial == nil || *req.ParseSpecial
	ids, err := eng.Tokenize(c.Request().Context(), id, req.Content, special, req.AddSpecial)
	if err != nil {
		return engineError(req.Model, err)
	}
	if !req.WithPieces {
		return c.JSON(http.StatusOK, map[string][]int32{"tokens": ids})
	}
	texts, err := eng.TokenPieces(c.Request().Context(), id, ids)
	if err != nil {
		return engineError(req.Model, err)
	}
	pieces := make([]tokenPiece, len(ids))
	for i, t := range ids {
		pieces[i] = tokenPiece{ID: t, Piece: texts[i]}
	}
	return c.JSON(http.StatusOK, map[string][]tokenPiece{"tokens": pieces})
}

// detokenizeRequest is POST /detokenize's body.
type detokenizeRequest struct {
	Model  string  `json:"model"`
	Tokens []int32 `json:"tokens"`
}

func (s *Server) handleDetokenize(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req detokenizeRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	id, err := s.utilityModel(c, req.Model)
	if err != nil {
		return err
	}
	text, err := eng.Detokenize(c.Request().Context(), id, req.Tokens)
	if err != nil {
		return engineError(req.Model, err)
	}
	return c.JSON(http.StatusOK, map[string]string{"content": text})
}

// handleApplyTemplate renders OpenAI-style messages through the model's chat
// template with the generation prompt: the text the model would see.
func (s *Server) handleApplyTemplate(c echo.Context) error {
	eng, err := s.v1Engine()
	if err != nil {
		return err
	}
	var req openai.ChatRequest
	if err := decodeV1(c, &req); err != nil {
		return err
	}
	id, err := s.utilityModel(c, req.Model)
	if err != nil {
		return err
	}
	d, err := s.v1Defaults(c, req.Model)
	if err != nil {
		return err
	}
	chat, err := req.Engine(d)
	if err != nil {
		return v1Error(err)
	}
	text, err := eng.RenderChat(c.Request().Context(), id, chat.Request.Messages)
	if err != nil {
		return engineError(req.Model, err)
	}
	return c.JSON(http.StatusOK, map[string]string{"prompt": text})
}
