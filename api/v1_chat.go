package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
)

// handleChatCompletions is POST /v1/chat/completions.
func (s *Server) handleChatCompletions(c echo.Context) error {
	if routed, err := s.routeV1(c); routed { // a remote backend answers (v1route.go)
		return err
	}
	var req openai.ChatRequest
	eng, chat, err := prepareV1(s, c, &req, func() string { return req.Model },
		func(ch *openai.Chat) string { return ch.Request.Model })
	if err != nil {
		return err
	}
	meta := openai.NewMeta("chatcmpl-", req.Model, chat.Request.Model, s.now())
	if chat.Stream {
		return s.streamChat(c, eng, chat, meta)
	}
	out := openai.ChatCompletion{ID: meta.ID, Object: "chat.completion", Created: meta.Created, Model: meta.Model,
		SystemFingerprint: meta.SystemFingerprint, Choices: make([]openai.ChatChoice, 0, chat.N)}
	var usage engine.Usage
	results := make([]*engine.Result, 0, chat.N)
	for i := range chat.N {
		res, err := eng.Chat(c.Request().Context(), chat.Choice(i), nil)
		if err != nil {
			return engineError(req.Model, err)
		}
		v1Usage(c, res.Model, choiceUsage(i, res.Usage), res.TTFT)
		usage = addUsage(usage, i, res.Usage)
		out.Choices = append(out.Choices, openai.ChatChoiceFrom(i, res, chat.Logprobs))
		results = append(results, res)
		out.ContextOverflow = openai.ContextOverflowFrom(res.Overflow)
		out.Warning = res.Warning
	}
	out.Usage = openai.UsageFrom(usage)
	out.Timings = openai.TimingsFrom(results)
	return c.JSON(http.StatusOK, out)
}

// choiceUsage is what choice i adds to a request's usage: OpenAI counts the
// prompt once however many choices there are.
func choiceUsage(i int, u engine.Usage) engine.Usage {
	if i > 0 {
		u.PromptTokens, u.CachedTokens = 0, 0
	}
	return u
}

func addUsage(total engine.Usage, i int, u engine.Usage) engine.Usage {
	u = choiceUsage(i, u)
	total.PromptTokens += u.PromptTokens
	total.CachedTokens += u.CachedTokens
	total.CompletionTokens += u.CompletionTokens
	return total
}

// streamChat streams the choices one after the other, each opened by its role
// chunk and closed by its finish chunk, then the usage chunk when asked, then
// [DONE].
func (s *Server) streamChat(c echo.Context, eng *engine.Engine, chat *openai.Chat, meta openai.Meta) error {
	st := s.newSSE(c)
	defer st.close()
	cs := openai.NewChatStream(meta, chat.Logprobs)
	var usage engine.Usage
	for i := range chat.N {
		started := false
		start := func() error {
			if started {
				return nil
			}
			started = true
			return st.hold("", cs.Role(i)) // with the first token or the finish
		}
		res, err := eng.Chat(st.ctx, chat.Choice(i), func(d engine.Delta) error {
			if err := st.ctx.Err(); err != nil {
				return err
			}
			markFirstToken(c)
			chunk, ok := cs.Delta(i, d)
			if !ok {
				return nil
			}
			if err := start(); err != nil {
				return err
			}
			return st.send("", chunk)
		})
		if err != nil {
			v1Failed(c, res)
			return streamFailed(c, st, meta.Model, err, openaiStreamError(st))
		}
		v1Usage(c, res.Model, choiceUsage(i, res.Usage), res.TTFT)
		usage = addUsage(usage, i, res.Usage)
		if err := start(); err != nil {
			return err
		}
		finish := cs.Finish(i, res.FinishReason)
		finish.ContextOverflow = openai.ContextOverflowFrom(res.Overflow)
		finish.Warning = res.Warning
		send := st.send
		if i == chat.N-1 {
			send = st.hold // with the usage and [DONE]
		}
		if err := send("", finish); err != nil {
			return err
		}
	}
	if chat.IncludeUsage {
		if err := st.hold("", cs.Usage(openai.UsageFrom(usage))); err != nil {
			return err
		}
	}
	return st.done()
}
