package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// handleCreateResponse is POST /v1/responses, OpenAI's Responses API. A stored
// response (store is true unless the client says otherwise) can be read back and
// continued with previous_response_id by the user who created it, no one else.
func (s *Server) handleCreateResponse(c echo.Context) error {
	var req openai.ResponsesRequest
	eng, call, err := prepareV1(s, c, &req, func() string { return req.Model },
		func(r *openai.ResponsesCall) string { return r.Request.Model })
	if err != nil {
		return err
	}
	var history []engine.Message
	if req.PreviousResponseID != "" {
		if history, err = s.responseHistory(c, req.PreviousResponseID); err != nil {
			return err
		}
	}
	call.Request.Messages = call.Messages(history)
	if len(call.Request.Messages) == 0 {
		return &Error{Kind: engine.KindInvalid, Param: "input", Message: "input is required"}
	}
	// What a later request continues from: the conversation without instructions,
	// which OpenAI does not carry over.
	history = append(history, call.Input...)
	resp := openai.NewResponse(s.store.NewResponseID(), s.now().Unix(), req.Model, call.Echo)
	if call.Stream {
		return s.streamResponse(c, eng, call, resp, history)
	}
	res, err := eng.Chat(c.Request().Context(), call.Request, nil)
	if err != nil {
		return engineError(req.Model, call.InputParam(err))
	}
	v1Usage(c, res.Model, res.Usage, res.TTFT)
	output := openai.OutputFrom(res)
	resp.Finish(output, res, s.reasoningTokens(c.Request().Context(), eng, res))
	if err := s.storeResponse(c, call, resp, history); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
}

func (s *Server) streamResponse(c echo.Context, eng *engine.Engine, call *openai.ResponsesCall, resp openai.Response, history []engine.Message) error {
	st := s.newSSE(c)
	defer st.close()
	rs := openai.NewResponseStream(resp)
	send := st.sendEvents
	res, err := eng.Chat(st.ctx, call.Request, func(d engine.Delta) error {
		if err := st.ctx.Err(); err != nil {
			return err
		}
		markFirstToken(c)
		if evs := rs.Delta(d); len(evs) > 0 {
			return send(evs)
		}
		return nil
	})
	if err != nil {
		v1Failed(c, res)
		return streamFailed(c, st, resp.Model, call.InputParam(err), func(e *Error) error {
			ev := rs.Failed(e.Code, e.Message)
			return st.send(ev.Name, ev.Data)
		})
	}
	v1Usage(c, res.Model, res.Usage, res.TTFT)
	evs, final := rs.Finish(res, s.reasoningTokens(st.ctx, eng, res))
	if err := s.storeResponse(c, call, final, history); err != nil {
		return streamFailed(c, st, resp.Model, err, func(e *Error) error {
			ev := rs.Failed(e.Code, e.Message)
			return st.send(ev.Name, ev.Data)
		})
	}
	return send(evs)
}

// reasoningTokens counts the reasoning of res in the model's tokens, for usage's
// output_tokens_details. The engine reports only the total of generated tokens,
// so the reasoning text is tokenized again; a failure leaves the detail at 0
// rather than failing an answer that is already generated.
func (s *Server) reasoningTokens(ctx context.Context, eng *engine.Engine, res *engine.Result) int {
	if res.Reasoning == "" {
		return 0
	}
	ids, err := eng.Tokenize(ctx, res.Model, res.Reasoning, false, false)
	if err != nil {
		s.log.Warn("count reasoning tokens", "model", res.Model, "err", err)
		return 0
	}
	return len(ids)
}

// storeResponse keeps resp, when the request allows it, with the conversation
// up to and including its output.
func (s *Server) storeResponse(c echo.Context, call *openai.ResponsesCall, resp openai.Response, history []engine.Message) error {
	if !call.Store {
		return nil
	}
	body, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("encode response %s: %w", resp.ID, err)
	}
	hist, err := json.Marshal(append(history, openai.History(resp.Output)))
	if err != nil {
		return fmt.Errorf("encode response %s history: %w", resp.ID, err)
	}
	return s.store.Responses().Put(store.StoredResponse{ID: resp.ID, OwnerID: responseOwner(c), Response: body, History: hist})
}

// responseOwner is who may read the responses a request stores: its user, or ""
// for the unauthenticated loopback requests an admin may allow.
func responseOwner(c echo.Context) string {
	if u, ok := currentUser(c); ok {
		return u.ID
	}
	return ""
}

// ownResponse is the stored response id of the request's user; someone else's
// is as missing as one that never existed.
func (s *Server) ownResponse(c echo.Context, id, param string) (store.StoredResponse, error) {
	r, err := s.store.Responses().Get(id)
	if err == nil && r.OwnerID != responseOwner(c) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		code := ""
		if param != "" {
			code = "previous_response_not_found"
		}
		return r, &Error{Kind: engine.KindNotFound, Code: code, Param: param,
			Message: fmt.Sprintf("response with id %q not found", id)}
	}
	if err != nil {
		return r, fmt.Errorf("read response %s: %w", id, err)
	}
	return r, nil
}

func (s *Server) responseHistory(c echo.Context, id string) ([]engine.Message, error) {
	r, err := s.ownResponse(c, id, "previous_response_id")
	if err != nil {
		return nil, err
	}
	var msgs []engine.Message
	if err := json.Unmarshal(r.History, &msgs); err != nil {
		return nil, fmt.Errorf("decode response %s history: %w", id, err)
	}
	return msgs, nil
}

// handleGetResponse is GET /v1/responses/{id}.
func (s *Server) handleGetResponse(c echo.Context) error {
	r, err := s.ownResponse(c, c.Param("id"), "")
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, r.Response)
}

// handleDeleteResponse is DELETE /v1/responses/{id}.
func (s *Server) handleDeleteResponse(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.ownResponse(c, id, ""); err != nil {
		return err
	}
	if err := s.store.Responses().Delete(id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete response %s: %w", id, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "object": "response.deleted", "deleted": true})
}
