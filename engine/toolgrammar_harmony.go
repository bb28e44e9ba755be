package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/sample"
	"github.com/mlx-manager/mlx-manager/engine/sample/grammar"
)

// A harmony (gpt-oss) call is a message whose header is made of control
// tokens around text. After the generation prompt <|start|>assistant, the
// spec's form is
//
//	<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{…}<|call|>
//
// which a grammar over text cannot force: its masks never allow control
// tokens. tool_choice required or a named function therefore runs as steps
// (harmonySteps): the control tokens forced one at a time, the text between
// them under grammars, the arguments under the tool's schema. The model may
// first reason in one analysis message, as gpt-oss is trained to:
//
//	<|channel|>analysis<|message|>free text<|end|><|start|>assistant<|channel|>commentary to=…
//
// The output ends once the arguments are complete (<|call|> is an EOS token,
// never sampled), and the harmony parser turns the message into the call.
//
// With tool_choice auto the output is free, but a call header the model
// writes (in the spec's form or in the chat template's, to=functions.NAME
// <|channel|>commentary json<|message|>) is a lazy trigger: from there the
// arguments follow NAME's schema (harmonyAuto).

// step is one part of an output built of control tokens and text: a control
// token, forced; text under a grammar until the grammar is complete; or free
// text (tokens that are text, see grammar.Masker.Plain) until a given
// control token. After a text step, then (when set) gives the steps that
// follow from the text the step matched: a call's arguments depend on the
// name in its header.
type step struct {
	tok  int32                    // the forced token; for a free step, the token that ends it
	g    *grammar.Grammar         // a text step's grammar
	then func(text string) []step // a text step's continuation; nil: the next steps
	free bool
}

// harmonyTokens are the control tokens of harmony's headers.
type harmonyTokens struct {
	start, channel, message, constrain, end int32
}

// harmonyTokensOf finds the control tokens in the model's tokenizer; a
// harmony template over a tokenizer without them cannot have its calls forced.
func (l *loaded) harmonyTokensOf() (harmonyTokens, error) {
	var t harmonyTokens
	for _, f := range []struct {
		text string
		id   *int32
	}{{"<|start|>", &t.start}, {"<|channel|>", &t.channel}, {"<|message|>", &t.message}, {"<|constrain|>", &t.constrain}, {"<|end|>", &t.end}} {
		id, ok := l.tok.TokenID(f.text)
		if !ok || !l.tok.IsSpecial(id) {
			return t, fmt.Errorf("the tokenizer has no control token %s to write a harmony call with", f.text)
		}
		*f.id = id
	}
	return t, nil
}

// harmonySpec is the constraint of tool_choice required (any of the tools) or
// a named function (only) for a harmony model: one call.
func harmonySpec(tools []Tool, only string, t harmonyTokens) (*constraintSpec, error) {
	args := map[string]*grammar.Grammar{}
	var names []*grammar.Grammar
	for i, tool := range tools {
		if only != "" && tool.Name != only {
			continue
		}
		g, err := argsGrammar(tool)
		if err == nil {
			err = g.Compile()
		}
		if err != nil {
			return nil, &InvalidError{Param: fmt.Sprintf("tools[%d].function.parameters", i), Err: err}
		}
		args[tool.Name] = g
		names = append(names, grammar.Literal(tool.Name))
	}
	if len(names) == 0 {
		return nil, &InvalidError{Param: "tool_choice.function.name", Err: fmt.Errorf("no tool named %q", only)}
	}
	// The recipient ends with a space, so that no name is taken for a prefix
	// of a longer one (get, get_weather).
	const recipient = "commentary to=functions."
	callHeader := grammar.Seq(grammar.Literal(recipient), grammar.Choice(names...), grammar.Literal(" "))
	call := func(text string) []step {
		name := strings.TrimSuffix(strings.TrimPrefix(text, recipient), " ")
		return []step{{tok: t.constrain}, {g: grammar.Literal("json")}, {tok: t.message}, {g: args[name]}}
	}
	afterAnalysis := []step{{tok: t.start}, {g: grammar.Literal("assistant")}, {tok: t.channel}, {g: callHeader, then: call}}
	first := func(text string) []step {
		if text == "analysis" {
			return append([]step{{tok: t.message}, {free: true, tok: t.end}}, afterAnalysis...)
		}
		return call(text)
	}
	steps := []step{{tok: t.channel}, {g: grammar.Choice(grammar.Literal("analysis"), callHeader), then: first}}
	for _, g := range []*grammar.Grammar{steps[1].g, callHeader, grammar.Literal("json"), grammar.Literal("assistant")} {
		if err := g.Compile(); err != nil {
			return nil, &InvalidError{Param: "tools", Err: err}
		}
	}
	return &constraintSpec{param: "tools", steps: steps}, nil
}

// harmonyAuto is the constraint of tool_choice auto for a harmony model:
// the triggers of both header forms of every tool, each followed by the
// tool's arguments. One call ends the output, as <|call|> would.
func harmonyAuto(req *ChatRequest) (*constraintSpec, error) {
	key := constraintKey(req, chat.FormatHarmony)
	if c, ok := constraintCache.get(key); ok {
		return c, nil
	}
	c := &constraintSpec{param: "tools", single: true}
	for i, tool := range req.Tools {
		args, err := argsGrammar(tool)
		if err != nil {
			return nil, &InvalidError{Param: fmt.Sprintf("tools[%d].function.parameters", i), Err: err}
		}
		for _, head := range []string{
			"to=functions." + tool.Name + " <|constrain|>json<|message|>",
			"to=functions." + tool.Name + "<|channel|>commentary json<|message|>",
		} {
			g := grammar.Seq(grammar.Literal(head), args)
			if err := g.Compile(); err != nil {
				return nil, &InvalidError{Param: fmt.Sprintf("tools[%d].function.parameters", i), Err: err}
			}
			c.lazy = append(c.lazy, trigger{text: head, g: g})
		}
	}
	constraintCache.put(key, c)
	return c, nil
}

// sampleStep draws the next token with the mask of the step in force.
func (c *constraint) sampleStep(draw func(sample.Mask) (sample.Token, error)) (sample.Token, error) {
	if len(c.steps) == 0 {
		return sample.Token{}, errors.New("grammar: the output is complete")
	}
	switch st := c.steps[0]; {
	case st.g != nil:
		if err := c.m.Mask(c.mask); err != nil {
			return sample.Token{}, fmt.Errorf("grammar mask: %w", err)
		}
	case st.free:
		c.mk.Plain(c.mask)
		c.mask.Set(st.tok)
	default:
		clear(c.mask)
		c.mask.Set(st.tok)
	}
	return draw(sample.Mask(c.mask))
}

// acceptStep records the token kept and moves to the next step when this
// one is over.
func (c *constraint) acceptStep(id int32) error {
	if len(c.steps) == 0 {
		return fmt.Errorf("grammar accept: token %d after the end of the output", id)
	}
	switch st := c.steps[0]; {
	case st.g != nil:
		if err := c.m.Accept(id); err != nil {
			return fmt.Errorf("grammar accept: %w", err)
		}
		c.text = append(c.text, c.bytes(id)...)
		if !c.m.Complete() {
			return nil
		}
		next := c.steps[1:]
		if st.then != nil {
			next = st.then(string(c.text))
		}
		return c.enterStep(next)
	case st.free:
		if id == st.tok {
			return c.enterStep(c.steps[1:])
		}
		return nil
	case id != st.tok:
		return fmt.Errorf("grammar accept: token %d instead of the forced %d", id, st.tok)
	}
	return c.enterStep(c.steps[1:])
}

// enterStep makes steps[0] the step in force.
func (c *constraint) enterStep(steps []step) error {
	c.steps, c.m, c.text = steps, nil, c.text[:0]
	if len(steps) == 0 || steps[0].g == nil {
		return nil
	}
	m, err := c.mk.NewMatcher(steps[0].g)
	if err != nil {
		return &InvalidError{Param: c.spec.param, Err: err}
	}
	c.m = m
	return nil
}
