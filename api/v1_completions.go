package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
)

// handleCompletions is POST /v1/completions: raw prompts continued without a chat
// template. Choices are ordered by prompt, then by n.
func (s *Server) handleCompletions(c echo.Context) error {
	if routed, err := s.routeV1(c); routed { // a remote backend answers (v1route.go)
		return err
	}
	var req openai.CompletionRequest
	eng, comp, err := prepareV1(s, c, &req, func() string { return req.Model },
		func(cp *openai.Completion) string { return cp.Requests[0].Model })
	if err != nil {
		return err
	}
	model := comp.Requests[0].Model
	meta := openai.NewMeta("cmpl-", req.Model, model, s.now())
	if comp.Stream {
		return s.streamCompletions(c, eng, comp, meta)
	}
	out := openai.NewTextCompletion(meta)
	var usage engine.Usage
	for p := range comp.Requests {
		for i := range comp.N {
			r := comp.Choice(p, i)
			res, err := eng.Complete(c.Request().Context(), r, nil)
			if err != nil {
				return engineError(req.Model, err)
			}
			v1Usage(c, res.Model, choiceUsage(i, res.Usage), res.TTFT)
			usage = addUsage(usage, i, res.Usage)
			out.Choices = append(out.Choices, openai.TextChoiceFrom(p*comp.N+i, r.Prompt, res, comp.Echo, comp.Logprobs))
		}
	}
	out.Usage = openai.UsageFrom(usage)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) streamCompletions(c echo.Context, eng *engine.Engine, comp *openai.Completion, meta openai.Meta) error {
	st := s.newSSE(c)
	defer st.close()
	var usage engine.Usage
	for p := range comp.Requests {
		for i := range comp.N {
			res, err := s.streamCompletion(c, st, eng, comp, meta, p, i)
			if err != nil {
				return streamFailed(c, st, meta.Model, err, openaiStreamError(st))
			}
			usage = addUsage(usage, i, res.Usage)
		}
	}
	if comp.IncludeUsage {
		chunk := openai.NewTextCompletion(meta)
		chunk.Usage = openai.UsageFrom(usage)
		if err := st.hold("", chunk); err != nil { // with [DONE]
			return err
		}
	}
	return st.done()
}

// streamCompletion streams choice i of prompt p: the echoed prompt first when
// asked, then the text as it comes, then a chunk with the finish reason.
func (s *Server) streamCompletion(c echo.Context, st *sseStream, eng *engine.Engine, comp *openai.Completion, meta openai.Meta, p, i int) (*engine.Result, error) {
	r := comp.Choice(p, i)
	index := p*comp.N + i
	offset := 0
	echoed := !comp.Echo
	echo := func() error {
		if echoed {
			return nil
		}
		echoed = true
		offset = len(r.Prompt)
		return st.send("", openai.NewTextCompletion(meta, openai.TextChoice{Text: r.Prompt, Index: index}))
	}
	res, err := eng.Complete(st.ctx, r, func(d engine.Delta) error {
		if err := st.ctx.Err(); err != nil {
			return err
		}
		markFirstToken(c)
		if err := echo(); err != nil {
			return err
		}
		ch, ok := openai.TextChunk(index, d, comp.Logprobs, &offset)
		if !ok {
			return nil
		}
		return st.send("", openai.NewTextCompletion(meta, ch))
	})
	if err != nil {
		v1Failed(c, res)
		return nil, err
	}
	v1Usage(c, res.Model, choiceUsage(i, res.Usage), res.TTFT)
	if err := echo(); err != nil {
		return nil, err
	}
	reason := res.FinishReason
	if err := st.send("", openai.NewTextCompletion(meta, openai.TextChoice{Index: index, FinishReason: &reason})); err != nil {
		return nil, err
	}
	return res, nil
}
