package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
)

// handleMessages is POST /v1/messages, Anthropic's Messages API. Its errors take
// Anthropic's shape (see handleError).
func (s *Server) handleMessages(c echo.Context) error {
	if routed, err := s.routeV1(c); routed { // a remote backend answers (v1route.go)
		return err
	}
	var req openai.MessagesRequest
	eng, msgs, err := prepareV1(s, c, &req, func() string { return req.Model },
		func(m *openai.Messages) string { return m.Request.Model })
	if err != nil {
		return err
	}
	meta := openai.NewMeta("msg_", req.Model, msgs.Request.Model, s.now())
	if msgs.Stream {
		return s.streamMessages(c, eng, msgs, meta)
	}
	res, err := eng.Chat(c.Request().Context(), msgs.Request, nil)
	if err != nil {
		return engineError(req.Model, err)
	}
	v1Usage(c, res.Model, res.Usage, res.TTFT)
	return c.JSON(http.StatusOK, openai.MessageFrom(meta, res))
}

func (s *Server) streamMessages(c echo.Context, eng *engine.Engine, msgs *openai.Messages, meta openai.Meta) error {
	st := s.newSSE(c)
	defer st.close()
	ms := openai.NewMessageStream(meta)
	// message_start goes out before the engine reports usage: count the prompt first.
	n, err := eng.CountChatTokens(st.ctx, msgs.Request)
	if err != nil {
		return streamFailed(c, st, meta.Model, err, func(*Error) error { return nil })
	}
	ms.SetInputTokens(n)
	started := false
	send := func(evs []openai.Event) error {
		if !started {
			started = true
			evs = append(ms.Start(), evs...)
		}
		return st.sendEvents(evs)
	}
	res, err := eng.Chat(st.ctx, msgs.Request, func(d engine.Delta) error {
		if err := st.ctx.Err(); err != nil {
			return err
		}
		markFirstToken(c)
		if evs := ms.Delta(d); len(evs) > 0 {
			return send(evs)
		}
		return nil
	})
	if err != nil {
		v1Failed(c, res)
		return streamFailed(c, st, meta.Model, err, func(e *Error) error {
			ev := openai.ErrorEvent(kindInfo(e.Kind).anthropic, e.Message)
			return st.send(ev.Name, ev.Data)
		})
	}
	v1Usage(c, res.Model, res.Usage, res.TTFT)
	return send(ms.Finish(res))
}
