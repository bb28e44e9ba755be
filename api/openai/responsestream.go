package openai

import "github.com/mlx-manager/mlx-manager/engine"

// ResponseStream builds the events of a streamed response in the order OpenAI
// sends them: response.created and response.in_progress; for each output item
// output_item.added, its content part's added/delta/done events (or a function
// call's arguments delta/done), output_item.done; then response.completed (or
// response.incomplete). Every event carries a sequence number.
type ResponseStream struct {
	resp  Response
	seq   int
	items []OutputItem
	open  int         // index in items of the item still receiving deltas; -1 for none
	calls map[int]int // engine tool-call index → index in items
	began bool        // the start events are out
}

// NewResponseStream starts the events of resp, a response in progress.
func NewResponseStream(resp Response) *ResponseStream {
	return &ResponseStream{resp: resp, open: -1, calls: map[int]int{}}
}

type eventData = map[string]any

func (s *ResponseStream) event(name string, data eventData) Event {
	data["type"] = name
	data["sequence_number"] = s.seq
	s.seq++
	return Event{Name: name, Data: data}
}

// start is the stream's first two events, before the first that has any: a
// generation failing before it produced anything is answered with an HTTP error.
func (s *ResponseStream) start() []Event {
	if s.began {
		return nil
	}
	s.began = true
	return []Event{
		s.event("response.created", eventData{"response": s.resp}),
		s.event("response.in_progress", eventData{"response": s.resp}),
	}
}

// Delta converts one engine delta into events; text of a new kind closes the
// item before it and opens the next.
func (s *ResponseStream) Delta(d engine.Delta) []Event {
	if d.Reasoning == "" && d.Content == "" && len(d.ToolCalls) == 0 {
		return nil
	}
	evs := s.start()
	if d.Reasoning != "" {
		evs = append(evs, s.openKind("reasoning")...)
		it := &s.items[s.open]
		it.Content[0].Text += d.Reasoning
		evs = append(evs, s.event("response.reasoning_text.delta", eventData{"item_id": it.ID, "output_index": s.open,
			"content_index": 0, "delta": d.Reasoning}))
	}
	if d.Content != "" {
		evs = append(evs, s.openKind("message")...)
		it := &s.items[s.open]
		it.Content[0].Text += d.Content
		evs = append(evs, s.event("response.output_text.delta", eventData{"item_id": it.ID, "output_index": s.open,
			"content_index": 0, "delta": d.Content, "logprobs": []string{}}))
	}
	for _, tc := range d.ToolCalls {
		idx, known := s.calls[tc.Index]
		if !known || tc.ID != "" && s.items[idx].CallID != tc.ID {
			evs = append(evs, s.closeOpen()...)
			empty := ""
			s.items = append(s.items, OutputItem{ID: NewID("fc_"), Type: "function_call", Status: "in_progress",
				CallID: tc.ID, Name: tc.Name, Arguments: &empty})
			idx = len(s.items) - 1
			s.open, s.calls[tc.Index] = idx, idx
			evs = append(evs, s.event("response.output_item.added", eventData{"output_index": idx, "item": s.items[idx]}))
		}
		if tc.Arguments == "" {
			continue
		}
		it := &s.items[idx]
		args := *it.Arguments + tc.Arguments
		it.Arguments = &args
		evs = append(evs, s.event("response.function_call_arguments.delta", eventData{"item_id": it.ID, "output_index": idx,
			"delta": tc.Arguments}))
	}
	return evs
}

// openKind makes the open item one of kind (reasoning or message), closing
// another and adding a new one as needed.
func (s *ResponseStream) openKind(kind string) []Event {
	if s.open >= 0 && s.items[s.open].Type == kind {
		return nil
	}
	evs := s.closeOpen()
	var it OutputItem
	var part OutputPart
	if kind == "reasoning" {
		it, part = reasoningItem(NewID("rs_")), reasoningPart("")
	} else {
		it, part = OutputItem{ID: NewID("msg_"), Type: "message", Status: "in_progress", Role: "assistant", Content: []OutputPart{}}, textPart("")
	}
	s.items = append(s.items, it)
	s.open = len(s.items) - 1
	evs = append(evs, s.event("response.output_item.added", eventData{"output_index": s.open, "item": it}))
	s.items[s.open].Content = []OutputPart{part}
	return append(evs, s.event("response.content_part.added", eventData{"item_id": it.ID, "output_index": s.open,
		"content_index": 0, "part": part}))
}

// closeOpen ends the open item with its done events.
func (s *ResponseStream) closeOpen() []Event {
	if s.open < 0 {
		return nil
	}
	i := s.open
	s.open = -1
	it := &s.items[i]
	var evs []Event
	switch it.Type {
	case "reasoning":
		part := it.Content[0]
		evs = append(evs,
			s.event("response.reasoning_text.done", eventData{"item_id": it.ID, "output_index": i, "content_index": 0, "text": part.Text}),
			s.event("response.content_part.done", eventData{"item_id": it.ID, "output_index": i, "content_index": 0, "part": part}))
	case "message":
		part := it.Content[0]
		evs = append(evs,
			s.event("response.output_text.done", eventData{"item_id": it.ID, "output_index": i, "content_index": 0,
				"text": part.Text, "logprobs": []string{}}),
			s.event("response.content_part.done", eventData{"item_id": it.ID, "output_index": i, "content_index": 0, "part": part}))
		if it.Status == "in_progress" {
			it.Status = "completed"
		}
	case "function_call":
		evs = append(evs, s.event("response.function_call_arguments.done", eventData{"item_id": it.ID, "output_index": i,
			"name": it.Name, "arguments": *it.Arguments}))
		it.Status = "completed"
	}
	return append(evs, s.event("response.output_item.done", eventData{"output_index": i, "item": *it}))
}

// Finish closes the last item and ends the stream with the finished response;
// output is what it holds, for storing. An answer with neither text nor calls
// still has its (empty) message, as the non-streamed answer does.
func (s *ResponseStream) Finish(res *engine.Result, reasoningTokens int) (evs []Event, final Response) {
	evs = s.start()
	if res.FinishReason == "length" && s.open >= 0 && s.items[s.open].Type == "message" {
		s.items[s.open].Status = "incomplete"
	}
	if !s.hasMessageOrCall() {
		evs = append(evs, s.openKind("message")...)
		if res.FinishReason == "length" {
			s.items[s.open].Status = "incomplete"
		}
	}
	evs = append(evs, s.closeOpen()...)
	s.resp.Finish(s.items, res, reasoningTokens)
	name := "response.completed"
	if s.resp.Status == "incomplete" {
		name = "response.incomplete"
	}
	return append(evs, s.event(name, eventData{"response": s.resp})), s.resp
}

func (s *ResponseStream) hasMessageOrCall() bool {
	for _, it := range s.items {
		if it.Type != "reasoning" {
			return true
		}
	}
	return false
}

// Failed is the event that ends a stream whose generation failed after it began.
func (s *ResponseStream) Failed(code, message string) Event {
	s.resp.Status = "failed"
	s.resp.Error = &ResponseError{Code: code, Message: message}
	s.resp.Output = s.items
	return s.event("response.failed", eventData{"response": s.resp})
}
